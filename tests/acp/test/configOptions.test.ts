// The agent and the model as ACP session config options: one ACP session goes from the real Codex
// to the real Claude Code and to another Claude model, each offline against its fake model server;
// the switch is a replacement in protocol v1 (linked like a /clear), so a second ACP process that
// loads the session gets the whole history and the agent and model the session has now.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codexConfig, modelCatalog } from '../../../extension/e2e/fakeCodexServer.mjs';
import { startFakeAnthropic } from './fakes/anthropicServer.ts';
import { startFakeCodex } from './fakes/codexServer.ts';
import { claudeEnv, seedClaudeHome } from './claudeHome.ts';
import { agentBins, agentText, waitFor, World, type AcpProcess } from './harness.ts';

const nonce = Math.random().toString(36).slice(2, 8);

type Option = { id: string; currentValue: string; options: { value: string; name: string }[] };
const option = (options: Option[] | null | undefined, id: string) => {
  const found = (options ?? []).find((o) => o.id === id);
  assert.ok(found, `no '${id}' option in ${JSON.stringify(options)}`);
  return found;
};

describe('ACP session config options: the agent and the model', { timeout: 300_000 }, () => {
  let world: World;
  let codex: Awaited<ReturnType<typeof startFakeCodex>>;
  let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;
  let first: AcpProcess;
  let sessionId = '';

  before(async () => {
    const bins = agentBins();
    codex = await startFakeCodex((r) => `CODEX:${r.lastUser}`);
    anthropic = await startFakeAnthropic((r) => `CLAUDE:${r.lastUser}`);
    world = new World('codex', { codex: { command: bins.codex }, claude: { command: bins.claude } }, { FAKE_API_KEY: 'dummy', ...claudeEnv(anthropic.baseUrl) });
    const codexHome = join(world.agentDir, 'codex-home');
    world.env.CODEX_HOME = codexHome;
    mkdirSync(codexHome, { recursive: true });
    writeFileSync(join(codexHome, 'fake-model-catalog.json'), modelCatalog);
    writeFileSync(join(codexHome, 'config.toml'), codexConfig(codex.baseUrl, world.workspace, join(codexHome, 'fake-model-catalog.json')));
    seedClaudeHome(world, bins.claude);
    first = await world.acp();
    await first.initialize();
  });

  after(async () => {
    await world?.dispose();
    await codex?.close();
    await anthropic?.close();
  });

  it('session/new offers the agents and the models, set to the ones it runs', async () => {
    const response = await first.agent.request('session/new', { cwd: world.workspace, mcpServers: [] });
    sessionId = response.sessionId;
    const agent = option(response.configOptions as Option[], 'provider');
    assert.equal(agent.currentValue, 'codex');
    assert.deepEqual(agent.options.map((o) => o.value).sort(), ['claude', 'codex']);
    assert.equal(option(response.configOptions as Option[], 'model').currentValue, 'default');
    const { stopReason, updates } = await first.prompt(sessionId, `one ${nonce}`);
    assert.equal(stopReason, 'end_turn');
    assert.ok(agentText(updates).includes(`CODEX:one ${nonce}`), agentText(updates));
  });

  it('choosing Claude Code starts it in the same ACP session, and the next prompt reaches it', async () => {
    const response = await first.agent.request('session/set_config_option', { sessionId, configId: 'provider', value: 'claude' });
    assert.equal(option(response.configOptions as Option[], 'provider').currentValue, 'claude');
    const model = option(response.configOptions as Option[], 'model');
    assert.equal(model.currentValue, 'default');
    assert.ok(['sonnet', 'opus', 'haiku'].every((m) => model.options.some((o) => o.value === m)), JSON.stringify(model.options));

    const codexRequests = codex.requests.length;
    const { stopReason, updates } = await first.prompt(sessionId, `two ${nonce}`);
    assert.equal(stopReason, 'end_turn');
    assert.ok(agentText(updates).includes(`CLAUDE:two ${nonce}`), agentText(updates));
    assert.equal(codex.requests.length, codexRequests, 'Codex got the prompt meant for Claude Code');
    // A new conversation: Claude Code did not get Codex's.
    assert.deepEqual(anthropic.requests.at(-1)!.users, [`two ${nonce}`]);
  });

  it('choosing a model starts the agent with it', async () => {
    const response = await first.agent.request('session/set_config_option', { sessionId, configId: 'model', value: 'opus' });
    assert.equal(option(response.configOptions as Option[], 'model').currentValue, 'opus');
    const { updates } = await first.prompt(sessionId, `three ${nonce}`);
    assert.ok(agentText(updates).includes(`CLAUDE:three ${nonce}`), agentText(updates));
    assert.match(anthropic.requests.at(-1)!.model ?? '', /opus/);
  });

  it('protocol v1 shows the chain: each session replaced by the next', async () => {
    const sessions = world.sessionsList();
    const byId = new Map(sessions.map((s: any) => [s.id, s]));
    const chain = [byId.get(sessionId)];
    while (chain.at(-1)?.transitionedTo) chain.push(byId.get(chain.at(-1).transitionedTo));
    assert.deepEqual(chain.map((s: any) => [s.provider, s.model ?? null]), [['codex', null], ['claude', null], ['claude', 'opus']]);
    assert.deepEqual(chain.slice(0, 2).map((s: any) => [s.status, s.statusReason]), [['completed', 'replaced'], ['completed', 'replaced']]);
    assert.equal(chain[2].status, 'active');
  });

  it('a second ACP process loads the session: the whole history, the agent and model it has now', async () => {
    const second = await world.acp();
    await second.initialize();
    const from = second.updates.length;
    const response = await second.agent.request('session/load', { sessionId, cwd: world.workspace, mcpServers: [] });
    assert.equal(option(response.configOptions as Option[], 'provider').currentValue, 'claude');
    assert.equal(option(response.configOptions as Option[], 'model').currentValue, 'opus');
    const replayed = second.updates.slice(from).filter((u) => u.sessionId === sessionId).map((u) => u.update);
    const users = replayed.filter((u) => u.sessionUpdate === 'user_message_chunk').map((u: any) => u.content.text);
    assert.deepEqual(users, [`one ${nonce}`, `two ${nonce}`, `three ${nonce}`]);
    assert.ok(agentText(replayed).includes(`CODEX:one ${nonce}`) && agentText(replayed).includes(`CLAUDE:three ${nonce}`), agentText(replayed));

    // The first process hears of nothing it did not do; the second goes on with Claude Code.
    const { updates } = await second.prompt(sessionId, `four ${nonce}`);
    assert.ok(agentText(updates).includes(`CLAUDE:four ${nonce}`), agentText(updates));
    await second.close();
  });

  it('another editor choosing a model moves this one along: config_option_update, and its prompts follow', async () => {
    const other = await world.acp();
    await other.initialize();
    await other.agent.request('session/load', { sessionId, cwd: world.workspace, mcpServers: [] });
    const from = first.updates.length;
    await other.agent.request('session/set_config_option', { sessionId, configId: 'model', value: 'haiku' });
    const update = await waitFor(() => first.updates.slice(from).find((u) => u.sessionId === sessionId && u.update.sessionUpdate === 'config_option_update'), 15_000, 'config_option_update in the first process');
    assert.equal(option((update.update as any).configOptions, 'model').currentValue, 'haiku');
    await other.close();
    const { updates } = await first.prompt(sessionId, `five ${nonce}`);
    assert.ok(agentText(updates).includes(`CLAUDE:five ${nonce}`), agentText(updates));
    assert.match(anthropic.requests.at(-1)!.model ?? '', /haiku/);
  });

  it('bad values are invalid params naming the field, and change nothing', async () => {
    await assert.rejects(first.agent.request('session/set_config_option', { sessionId, configId: 'colour', value: 'blue' }), (e: any) => e.code === -32602 && e.data?.field === 'configId');
    await assert.rejects(first.agent.request('session/set_config_option', { sessionId, configId: 'provider', value: 'no-such-agent' }), (e: any) => e.code === -32602 && e.data?.field === 'value');
    await waitFor(() => world.sessionsList().filter((s: any) => s.status === 'active').length === 1, 10_000, 'one active session');
  });
});
