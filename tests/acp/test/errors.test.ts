// Bad input to the ACP front door: the spec's errors, and a connection that goes on. No agent starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { World, type AcpProcess } from './harness.ts';

describe('ACP bad input', { timeout: 60_000 }, () => {
  let world: World;
  let acp: AcpProcess;

  before(async () => {
    world = new World('codex', {}, {});
    acp = await world.acp();
    await acp.initialize();
  });

  after(async () => {
    await world?.dispose();
  });

  it('a prompt for an unknown session is "resource not found" naming the session', async () => {
    await assert.rejects(acp.prompt('0123456789abcdef0123456789abcdef', 'hello'), (e: any) => e.code === -32002 && e.data?.sessionId === '0123456789abcdef0123456789abcdef');
  });

  it('session/load of an unknown session is "resource not found" naming the session', async () => {
    await assert.rejects(acp.agent.request('session/load', { sessionId: 'feedfacefeedfacefeedfacefeedface', cwd: world.workspace, mcpServers: [] }), (e: any) => e.code === -32002 && e.data?.sessionId === 'feedfacefeedfacefeedfacefeedface');
  });

  it('a relative cwd is invalid params naming the field', async () => {
    await assert.rejects(acp.agent.request('session/new', { cwd: 'relative/dir', mcpServers: [] }), (e: any) => e.code === -32602 && e.data?.field === 'cwd');
  });

  it('a cwd that does not exist is invalid params naming the field', async () => {
    await assert.rejects(acp.agent.request('session/new', { cwd: `${world.base}/missing`, mcpServers: [] }), (e: any) => e.code === -32602 && e.data?.field === 'cwd');
  });

  it('session/list answers the sessions of a folder (none yet)', async () => {
    const list = await acp.agent.request('session/list', { cwd: world.workspace });
    assert.deepEqual(list.sessions, []);
  });

  it('malformed JSON is a parse error with id null, and the connection goes on', async () => {
    const [command, ...args] = world.command;
    const child = spawn(command, args, { env: world.processEnv(), stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    try {
      // Hand-written on purpose: no client library sends broken JSON.
      child.stdin!.write('{"jsonrpc":"2.0","id":1,"method":"initialize",\n');
      const parseError = JSON.parse((await lines.next()).value);
      assert.equal(parseError.id, null);
      assert.equal(parseError.error.code, -32700);
      child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: 1 } })}\n`);
      const init = JSON.parse((await lines.next()).value);
      assert.equal(init.id, 2);
      assert.equal(init.result.protocolVersion, 1);
    } finally {
      child.stdin!.end();
      await new Promise((r) => child.on('exit', r));
    }
  });
});
