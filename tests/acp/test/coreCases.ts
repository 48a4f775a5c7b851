// The core ACP cases, run against a real agent offline (Claude Code, Auggie): a session, a streamed
// answer, a command's tool call, approvals (where the agent asks), cancel, /clear, and a second ACP
// process that loads the session and goes on with its conversation.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as acp from '@agentclientprotocol/sdk';
import type { Reply } from './fakes/modelServer.ts';
import { agentText, allowOnce, contentText, rejectAll, repoRoot, toolCalls, waitFor, World, type AcpProcess } from './harness.ts';

export type SeenRequest = { users: string[]; lastUser: string; toolResult?: string };

export interface AgentSpec {
  provider: string;
  /** The fake model (answering with `responder`) and the world pointed at it. */
  setup(responder: (request: SeenRequest) => Reply): Promise<{ world: World; requests: SeenRequest[]; close(): Promise<void> }>;
  /** The agent's tool call that runs a shell command. */
  command(command: string, world: World): Reply;
  /** The agent asks before it runs a command (so an approval round trip can be tested). */
  asks: boolean;
}

export function coreCases(spec: AgentSpec) {
  const nonce = Math.random().toString(36).slice(2, 8);
  // Eight lines, one every 700 ms: Auggie draws a streaming answer only some lines at a time.
  const streamed = Array.from({ length: 8 }, (_, i) => `Streaming line ${i + 1} ${nonce}.`).join('\n\n');

  describe(`ACP with ${spec.provider}`, { timeout: 240_000 }, () => {
    let world: World;
    let requests: SeenRequest[];
    let close: () => Promise<void>;
    let first: AcpProcess;
    let sessionId = '';

    function responder(request: SeenRequest): Reply {
      const user = request.lastUser;
      if (user.startsWith('stream')) return { text: streamed, pieces: 8, delayMs: 700 };
      if (user.startsWith('slow')) return { text: Array.from({ length: 30 }, (_, i) => `slow line ${i}`).join('\n\n'), pieces: 30, delayMs: 300 };
      if (user.startsWith('run a command')) return request.toolResult === undefined ? spec.command(`echo tool-${nonce}`, world) : `The command printed tool-${nonce}.`;
      const escalate = user.match(/^escalate (\S+)/);
      if (escalate) return request.toolResult === undefined ? spec.command(`echo approved > ${join(world.outside, escalate[1])}`, world) : `Escalation done ${escalate[1]}.`;
      return `PONG:${user}`;
    }

    before(async () => {
      ({ world, requests, close } = await spec.setup(responder));
      first = await world.acp(allowOnce);
      await first.initialize();
    });

    after(async () => {
      await world?.dispose();
      await close?.();
    });

    it('session/new starts the agent', async () => {
      sessionId = await first.newSession(world.workspace);
      assert.match(sessionId, /^[0-9a-f]{32}$/);
    });

    it('a prompt streams its answer in several agent_message_chunk updates', async () => {
      const { stopReason, updates } = await first.prompt(sessionId, 'stream please');
      assert.equal(stopReason, 'end_turn');
      const chunks = updates.filter((u) => u.sessionUpdate === 'agent_message_chunk');
      assert.ok(chunks.length >= 2, `expected several chunks, got ${JSON.stringify(chunks)}`);
      const text = agentText(updates);
      for (const line of streamed.split('\n\n')) assert.ok(text.includes(line), `missing "${line}" in "${text}"`);
    });

    it('a turn with a command reports its tool call, completed with its output', async () => {
      const { stopReason, updates } = await first.prompt(sessionId, 'run a command please');
      assert.equal(stopReason, 'end_turn');
      const call = [...toolCalls(updates).values()].find((c) => contentText(c).includes(`tool-${nonce}`));
      assert.ok(call, `no tool call with the output: ${JSON.stringify(updates)}`);
      assert.equal(call[0].sessionUpdate, 'tool_call');
      assert.equal(call.at(-1).status, 'completed');
      assert.ok(agentText(updates).includes(`The command printed tool-${nonce}.`));
    });

    if (spec.asks) {
      it('an approval allowed through session/request_permission: the command runs', async () => {
        first.permission = allowOnce;
        const asked = first.permissionRequests.length;
        const { stopReason } = await first.prompt(sessionId, `escalate allowed-${nonce}.txt`);
        assert.equal(stopReason, 'end_turn');
        assert.ok(first.permissionRequests.length > asked, 'no permission was asked');
        assert.ok(existsSync(join(world.outside, `allowed-${nonce}.txt`)), 'the approved command did not run');
      });

      it('an approval rejected: the command does not run', async () => {
        first.permission = rejectAll;
        const asked = first.permissionRequests.length;
        const { stopReason } = await first.prompt(sessionId, `escalate rejected-${nonce}.txt`);
        assert.ok(['end_turn', 'cancelled'].includes(stopReason), stopReason);
        assert.ok(first.permissionRequests.length > asked, 'no permission was asked');
        assert.ok(!existsSync(join(world.outside, `rejected-${nonce}.txt`)), 'the rejected command ran');
        first.permission = allowOnce;
      });
    }

    it('session/cancel during a slow answer ends the prompt with cancelled', async () => {
      const from = first.updates.length;
      const slow = first.prompt(sessionId, 'slow answer please');
      await waitFor(() => first.updates.slice(from).some((u) => u.update.sessionUpdate === 'agent_message_chunk'), 60_000, 'the first chunk of the slow answer');
      await first.cancel(sessionId);
      assert.equal((await slow).stopReason, 'cancelled');
    });

    it('session/new hands the client\'s stdio MCP servers to the agent, which starts them with their env', async () => {
      const marker = join(world.outside, `mcp-${spec.provider}-${nonce}.json`);
      const token = `tok-${nonce}`;
      const script = join(repoRoot, 'tests', 'testdata', 'agents', 'mcp-marker.mjs');
      const id = await first.newSession(world.workspace, [
        { name: 'Marker Tools', command: process.execPath, args: [script, marker, '--from-acp'], env: [{ name: 'MCP_TOKEN', value: token }] },
        { type: 'http', name: 'remote', url: 'http://127.0.0.1:9/mcp', headers: [] } as acp.McpServer,
      ]);
      assert.notEqual(id, sessionId, 'a session with MCP servers is a new agent, not the reused one');
      const started = await waitFor(() => existsSync(marker) && readFileSync(marker, 'utf8'), 60_000, `${spec.provider} to start the MCP server`);
      assert.deepEqual(JSON.parse(started), { args: ['--from-acp'], token });
      assert.match(first.stderr, /leaving out 1 MCP server\(s\) \(remote\): only stdio servers are passed on/);
    });

    it('/clear clears the conversation; the ACP session goes on', async () => {
      assert.equal((await first.prompt(sessionId, '/clear')).stopReason, 'end_turn');
      const { stopReason, updates } = await first.prompt(sessionId, `after clear ${nonce}`);
      assert.equal(stopReason, 'end_turn');
      assert.ok(agentText(updates).includes(`PONG:after clear ${nonce}`), agentText(updates));
      assert.deepEqual(requests.at(-1)!.users, [`after clear ${nonce}`]);
    });

    it('a second ACP process loads the session: history replayed, the next prompt carries the conversation', async () => {
      await first.close();
      const second = await world.acp(allowOnce);
      await second.initialize();
      const before = second.updates.length;
      await second.agent.request('session/load', { sessionId, cwd: world.workspace, mcpServers: [] });
      const replayed = second.updates.slice(before).filter((u) => u.sessionId === sessionId).map((u) => u.update);
      const users = replayed.filter((u) => u.sessionUpdate === 'user_message_chunk').map((u: any) => u.content.text);
      assert.ok(users.includes('stream please') && users.includes(`after clear ${nonce}`), `replayed: ${JSON.stringify(users)}`);
      assert.ok(agentText(replayed).includes(`PONG:after clear ${nonce}`));
      const { stopReason, updates } = await second.prompt(sessionId, `after load ${nonce}`);
      assert.equal(stopReason, 'end_turn');
      assert.ok(agentText(updates).includes(`PONG:after load ${nonce}`));
      assert.deepEqual(requests.at(-1)!.users, [`after clear ${nonce}`, `after load ${nonce}`]);
      assert.ok(world.sessionsList().some((s: any) => s.id === sessionId), 'the session is not listed through protocol v1');
    });
  });
}
