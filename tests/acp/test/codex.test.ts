// The ACP front door with the real Codex CLI, offline, against a fake Responses API on 127.0.0.1,
// with users' approval defaults (on-request, workspace-write): Codex asks before an escalated command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codexConfig, modelCatalog } from '../../../extension/e2e/fakeCodexServer.mjs';
import { startFakeCodex, type CodexReply, type CodexRequest, type FakeCodex } from './fakes/codexServer.ts';
import { agentBins, agentSidecar, agentText, allowOnce, contentText, toolCalls, waitFor, World, type AcpProcess } from './harness.ts';

const nonce = Math.random().toString(36).slice(2, 8);
const streamed = ['Streaming line one.', 'Streaming line two.', 'Streaming line three.', 'Streaming line four.'].map((l) => `${l} ${nonce}`).join('\n');

function reply(request: CodexRequest, world: World): CodexReply {
  const user = request.lastUser;
  if (user.startsWith('stream')) return { text: streamed, pieces: 4, delayMs: 250 };
  if (user.startsWith('slow')) return { text: Array.from({ length: 30 }, (_, i) => `slow line ${i}`).join('\n'), pieces: 30, delayMs: 300 };
  if (user.startsWith('run a command')) {
    if (request.step === 0) return { functionCall: { name: 'exec_command', arguments: { cmd: `echo tool-${nonce}`, workdir: world.workspace } } };
    return `The command printed tool-${nonce}.`;
  }
  if (user.startsWith('edit the notes')) {
    if (request.step === 0) return { functionCall: { name: 'update_plan', arguments: { explanation: 'Two steps.', plan: [{ step: 'Edit the notes', status: 'in_progress' }, { step: 'Report back', status: 'pending' }] } } };
    if (request.step === 1) return { customToolCall: { name: 'apply_patch', input: '*** Begin Patch\n*** Update File: notes.txt\n@@\n one\n-two\n+TWO\n three\n*** End Patch\n' } };
    return 'Edited.';
  }
  const escalate = user.match(/^escalate (\S+)/);
  if (escalate) {
    if (request.step === 0) return { functionCall: { name: 'exec_command', arguments: { cmd: `echo approved > ${join(world.outside, escalate[1])}`, sandbox_permissions: 'require_escalated', justification: 'Write a file outside the workspace?', login: false } } };
    return `Escalation done ${escalate[1]}.`;
  }
  return `PONG:${user}`;
}

describe('ACP with Codex', { timeout: 240_000 }, () => {
  let world: World;
  let fake: FakeCodex;
  let first: AcpProcess;
  let sessionId = '';

  before(async () => {
    const codex = agentBins().codex;
    fake = await startFakeCodex((r) => reply(r, world));
    world = new World('codex', { codex: { command: codex } }, { CODEX_HOME: '', FAKE_API_KEY: 'dummy' });
    const codexHome = join(world.agentDir, 'codex-home');
    world.env.CODEX_HOME = codexHome;
    (await import('node:fs')).mkdirSync(codexHome, { recursive: true });
    writeFileSync(join(codexHome, 'fake-model-catalog.json'), modelCatalog);
    // Users' approval defaults, and the plan tool on (apply_patch is offered by the catalog).
    const config = codexConfig(fake.baseUrl, world.workspace, join(codexHome, 'fake-model-catalog.json'), { approvalPolicy: 'on-request', sandboxMode: 'workspace-write' });
    writeFileSync(join(codexHome, 'config.toml'), `${config}\n[tools]\nupdate_plan = { enabled = true }\n`);
    first = await world.acp();
  });

  after(async () => {
    await world?.dispose();
    await fake?.close();
  });

  it('initialize answers protocol version 1 with loadSession, embedded context and agentInfo', async () => {
    const init = await first.initialize();
    assert.equal(init.protocolVersion, 1);
    assert.equal(init.agentCapabilities?.loadSession, true);
    assert.equal(init.agentCapabilities?.promptCapabilities?.embeddedContext, true);
    assert.equal(init.agentInfo?.name, 'agent-sidecar');
  });

  it('session/new starts a Codex session and lists /clear among the commands', async () => {
    sessionId = await first.newSession(world.workspace);
    assert.match(sessionId, /^[0-9a-f]{32}$/);
    const commands = await waitFor(() => first.updates.find((u) => u.sessionId === sessionId && u.update.sessionUpdate === 'available_commands_update'), 10_000, 'available_commands_update');
    assert.ok((commands.update as any).availableCommands.some((c: any) => c.name === 'clear'));
  });

  it('a prompt streams its answer in several agent_message_chunk updates and ends with end_turn', async () => {
    const { stopReason, updates } = await first.prompt(sessionId, 'stream please');
    assert.equal(stopReason, 'end_turn');
    const chunks = updates.filter((u) => u.sessionUpdate === 'agent_message_chunk');
    assert.ok(chunks.length >= 2, `expected several chunks, got ${chunks.length}: ${JSON.stringify(chunks)}`);
    const text = agentText(updates);
    for (const line of streamed.split('\n')) assert.ok(text.includes(line), `missing "${line}" in "${text}"`);
  });

  it('resource links and embedded resources reach the agent as file references with their text', async () => {
    const readme = join(world.workspace, 'README.md');
    const { stopReason } = await first.prompt(sessionId, [
      { type: 'text', text: 'context please' },
      { type: 'resource_link', uri: `file://${readme}`, name: 'README.md' },
      { type: 'resource', resource: { uri: `file://${join(world.workspace, 'snippet.txt')}`, text: `embedded ${nonce}`, mimeType: 'text/plain' } },
    ]);
    assert.equal(stopReason, 'end_turn');
    const typed = fake.requests.at(-1)!.lastUser;
    assert.ok(typed.startsWith('context please'), typed);
    assert.ok(typed.includes(readme), typed);
    assert.ok(typed.includes(join(world.workspace, 'snippet.txt')) && typed.includes(`embedded ${nonce}`), typed);
  });

  it('a turn with a command reports the tool call from in progress to completed with its output', async () => {
    const { stopReason, updates } = await first.prompt(sessionId, 'run a command please');
    assert.equal(stopReason, 'end_turn');
    const calls = [...toolCalls(updates).values()];
    const call = calls.find((c) => contentText(c).includes(`tool-${nonce}`));
    assert.ok(call, `no tool call with the output: ${JSON.stringify(updates)}`);
    assert.equal(call[0].sessionUpdate, 'tool_call');
    assert.ok(['pending', 'in_progress'].includes(call[0].status), `first status ${call[0].status}`);
    assert.equal(call.at(-1).status, 'completed');
    assert.equal(call[0].kind, 'execute');
    assert.ok(agentText(updates).includes(`The command printed tool-${nonce}.`));
  });

  it('an edit is a tool call with the file\'s diff; a plan is a plan update', async () => {
    first.permission = allowOnce;
    writeFileSync(join(world.workspace, 'notes.txt'), 'one\ntwo\nthree\n');
    const { stopReason, updates } = await first.prompt(sessionId, 'edit the notes');
    assert.equal(stopReason, 'end_turn');
    const plan = updates.find((u) => u.sessionUpdate === 'plan') as any;
    assert.deepEqual(plan?.entries.map((e: any) => `${e.content}:${e.status}`), ['Edit the notes:in_progress', 'Report back:pending']);
    const diffs = updates.flatMap((u: any) => (u.sessionUpdate === 'tool_call' || u.sessionUpdate === 'tool_call_update') ? (u.content ?? []).filter((c: any) => c.type === 'diff').map((c: any) => ({ ...c, kind: u.kind, status: u.status })) : []);
    const diff = diffs.at(-1);
    assert.ok(diff, `no diff in ${JSON.stringify(updates)}`);
    assert.equal(diff.path, join(world.workspace, 'notes.txt'));
    assert.equal(diff.oldText, 'one\ntwo\nthree\n');
    assert.equal(diff.newText, 'one\nTWO\nthree\n');
    assert.equal(diff.kind, 'edit');
    assert.equal(diff.status, 'completed');
    assert.ok(agentText(updates).includes('Edited.'));
  });

  it('an approval is a session/request_permission: allowed, the command runs', async () => {
    first.permission = allowOnce;
    const asked = first.permissionRequests.length;
    const { stopReason, updates } = await first.prompt(sessionId, `escalate allowed-${nonce}.txt`);
    assert.equal(stopReason, 'end_turn');
    assert.equal(first.permissionRequests.length, asked + 1);
    const request = first.permissionRequests.at(-1)!;
    assert.ok(request.options.some((o) => o.kind === 'allow_once') && request.options.some((o) => o.kind.startsWith('reject')));
    assert.ok(existsSync(join(world.outside, `allowed-${nonce}.txt`)), 'the approved command did not run');
    assert.ok(agentText(updates).includes(`Escalation done allowed-${nonce}.txt.`));
  });

  it('an approval rejected: the command does not run', async () => {
    first.permission = (r) => ({ outcome: { outcome: 'selected', optionId: r.options.find((o) => o.kind === 'reject_once')!.optionId } });
    const asked = first.permissionRequests.length;
    const { stopReason } = await first.prompt(sessionId, `escalate rejected-${nonce}.txt`);
    assert.ok(['end_turn', 'cancelled'].includes(stopReason), stopReason);
    assert.equal(first.permissionRequests.length, asked + 1);
    assert.ok(!existsSync(join(world.outside, `rejected-${nonce}.txt`)), 'the rejected command ran');
  });

  it('a second prompt while one runs is refused; session/cancel during a slow answer ends it with cancelled', async () => {
    const from = first.updates.length;
    const slow = first.prompt(sessionId, 'slow answer please');
    await waitFor(() => first.updates.slice(from).some((u) => u.update.sessionUpdate === 'agent_message_chunk'), 60_000, 'the first chunk of the slow answer');
    await assert.rejects(first.prompt(sessionId, 'another one'), (e: any) => e.code === -32600 && e.data?.sessionId === sessionId);
    const cancelledAt = Date.now();
    await first.cancel(sessionId);
    const { stopReason } = await slow;
    assert.equal(stopReason, 'cancelled');
    assert.ok(Date.now() - cancelledAt < 8_000, 'the cancel took too long');
  });

  it('a $/cancel_request for a prompt cancels its turn like session/cancel', async () => {
    const from = first.updates.length;
    const abort = new AbortController();
    const slow = first.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'slow answer again' }] }, { cancellationSignal: abort.signal });
    await waitFor(() => first.updates.slice(from).some((u) => u.update.sessionUpdate === 'agent_message_chunk'), 60_000, 'the first chunk of the slow answer');
    abort.abort();
    assert.equal((await slow).stopReason, 'cancelled');
  });

  it('a session suspended meanwhile (idle cleanup, the CLI) is resumed by the next prompt, conversation and all', async () => {
    const cli = spawnSync(agentSidecar, ['sessions', 'suspend', sessionId, '--data-dir', world.dataDir, '--config-dir', world.configDir], { encoding: 'utf8', env: world.processEnv() });
    assert.equal(cli.status, 0, cli.stderr);
    const { stopReason, updates } = await first.prompt(sessionId, `after suspend ${nonce}`);
    assert.equal(stopReason, 'end_turn');
    assert.ok(agentText(updates).includes(`PONG:after suspend ${nonce}`));
    assert.ok(fake.requests.at(-1)!.users.includes('stream please'), JSON.stringify(fake.requests.at(-1)!.users));
  });

  it('/clear clears the agent\'s conversation; the ACP session id stays and the next prompt starts afresh', async () => {
    const { stopReason } = await first.prompt(sessionId, '/clear');
    assert.equal(stopReason, 'end_turn');
    const { stopReason: next, updates } = await first.prompt(sessionId, `after clear ${nonce}`);
    assert.equal(next, 'end_turn');
    assert.ok(agentText(updates).includes(`PONG:after clear ${nonce}`));
    assert.deepEqual(fake.requests.at(-1)!.users, [`after clear ${nonce}`]);
  });

  it('the session is visible through protocol v1, with the /clear chain', () => {
    const sessions = world.sessionsList();
    const original = sessions.find((s: any) => s.id === sessionId);
    assert.ok(original, `session ${sessionId} not in ${JSON.stringify(sessions.map((s: any) => s.id))}`);
    assert.equal(original.statusReason, 'clear');
    const current = sessions.find((s: any) => s.id === original.transitionedTo);
    assert.equal(current?.status, 'active');
    assert.equal(current?.provider, 'codex');
  });

  it('a second ACP process loads the session: history replayed, the next prompt reaches the model with the earlier conversation', async () => {
    // The editor closes: the sidecar this process started lingers, with the agent still running.
    const head = () => world.chainHead(sessionId);
    const agentPid = head().workers.find((w: any) => w.status === 'running')?.pid;
    assert.ok(agentPid, JSON.stringify(head()));
    await first.close();
    assert.equal(head().status, 'active');
    assert.equal(head().workers.find((w: any) => w.status === 'running')?.pid, agentPid);
    const second = await world.acp();
    await second.initialize();
    const before = second.updates.length;
    await second.agent.request('session/load', { sessionId, cwd: world.workspace, mcpServers: [] });
    const replayed = second.updates.slice(before).filter((u) => u.sessionId === sessionId).map((u) => u.update);
    const users = replayed.filter((u) => u.sessionUpdate === 'user_message_chunk').map((u: any) => u.content.text);
    assert.ok(users.includes('stream please') && users.includes(`after clear ${nonce}`), `replayed users: ${JSON.stringify(users)}`);
    assert.ok(agentText(replayed).includes(`PONG:after clear ${nonce}`));
    assert.ok(replayed.some((u) => u.sessionUpdate === 'tool_call'), 'no tool call replayed');
    const { stopReason, updates } = await second.prompt(sessionId, `after load ${nonce}`);
    assert.equal(stopReason, 'end_turn');
    assert.ok(agentText(updates).includes(`PONG:after load ${nonce}`));
    assert.deepEqual(fake.requests.at(-1)!.users, [`after clear ${nonce}`, `after load ${nonce}`]);
    assert.equal(head().workers.find((w: any) => w.status === 'running')?.pid, agentPid, 'the agent was started again');
    await second.close();
  });

  it('session/load of a suspended session resumes it: the agent starts again on the same conversation', async () => {
    const head = () => world.chainHead(sessionId);
    const suspended = head();
    const cli = spawnSync(agentSidecar, ['sessions', 'suspend', suspended.id, '--data-dir', world.dataDir, '--config-dir', world.configDir], { encoding: 'utf8', env: world.processEnv() });
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(head().status, 'suspended');
    const third = await world.acp();
    await third.initialize();
    await third.agent.request('session/load', { sessionId, cwd: world.workspace, mcpServers: [] });
    const resumed = head();
    assert.equal(resumed.id, suspended.id);
    assert.equal(resumed.status, 'active');
    const { stopReason, updates } = await third.prompt(sessionId, `after resume ${nonce}`);
    assert.equal(stopReason, 'end_turn');
    assert.ok(agentText(updates).includes(`PONG:after resume ${nonce}`));
    assert.deepEqual(fake.requests.at(-1)!.users, [`after clear ${nonce}`, `after load ${nonce}`, `after resume ${nonce}`]);
  });
});
