// The CLI's hand-off rules through the ACP front door, with an editor's sidecar already running
// (a sidecar serving only its socket, as VS Code's would be): ACP sessions live there, are seen by
// protocol v1 clients and the other way round, and an ACP process that exits leaves them running.
// A shell session needs no agent: what is tested is where sessions live.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as rpc from 'vscode-jsonrpc/node.js';
import { agentSidecar, waitFor, World } from './harness.ts';

describe('ACP hand-off to a running sidecar', { timeout: 90_000 }, () => {
  let world: World;
  let editor: ChildProcess;
  let v1: rpc.MessageConnection;
  let acpSessionId = '';

  before(async () => {
    world = new World('shell', {}, {});
    editor = spawn(agentSidecar, ['--no-stdio', '--data-dir', world.dataDir, '--config-dir', world.configDir], { env: world.processEnv(), stdio: 'ignore' });
    const run = join(world.dataDir, 'run');
    const socket = await waitFor(() => existsSync(run) && readdirSync(run).find((f) => f.endsWith('.sock')), 30_000, 'the editor sidecar\'s socket');
    const stream = createConnection(join(run, socket));
    v1 = rpc.createMessageConnection(new rpc.StreamMessageReader(stream), new rpc.StreamMessageWriter(stream));
    v1.listen();
    await v1.sendRequest('initialize', { processId: process.pid, clientInfo: { name: 'acp-handoff-test', version: '1' } });
    await v1.sendNotification('initialized', {});
  });

  after(async () => {
    v1?.dispose();
    if (editor && editor.exitCode === null) {
      const exited = new Promise((r) => editor.on('exit', r));
      editor.kill('SIGTERM'); // a graceful shutdown: its sessions are suspended, its shells stopped
      await exited;
    }
    await world?.dispose();
  });

  it('a session made through ACP lives in the running sidecar and outlives the ACP process', async () => {
    const acp = await world.acp();
    await acp.initialize();
    acpSessionId = await acp.newSession(world.workspace);
    await acp.close();
    const session: any = await v1.sendRequest('session/get', { sessionId: acpSessionId });
    assert.equal(session.status, 'active');
    assert.equal(session.owner?.pid, editor.pid);
  });

  it('a session made through protocol v1 is listed and loaded through ACP', async () => {
    const made: any = await v1.sendRequest('session/start', { workspace: world.workspace, provider: 'shell', reuse: false });
    const acp = await world.acp();
    await acp.initialize();
    const list = await acp.agent.request('session/list', { cwd: world.workspace });
    const ids = list.sessions.map((s) => s.sessionId);
    assert.ok(ids.includes(made.id) && ids.includes(acpSessionId), JSON.stringify(ids));
    await acp.agent.request('session/load', { sessionId: made.id, cwd: world.workspace, mcpServers: [] });
    await acp.close();
    const after: any = await v1.sendRequest('session/get', { sessionId: made.id });
    assert.equal(after.status, 'active');
  });
});
