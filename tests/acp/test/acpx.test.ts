// acpx (from npm) as a second, independent ACP client of `agent-sidecar acp`, with the real Codex
// offline: a one-shot `exec`, and a persistent session that survives two invocations.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { codexConfig, modelCatalog } from '../../../extension/e2e/fakeCodexServer.mjs';
import { startFakeCodex, type FakeCodex } from './fakes/codexServer.ts';
import { agentBins, repoRoot, World } from './harness.ts';

const run = promisify(execFile);
const acpxBin = join(repoRoot, 'tests', 'acp', 'node_modules', 'acpx', 'dist', 'cli.js');

describe('acpx drives agent-sidecar acp', { timeout: 180_000 }, () => {
  let world: World;
  let fake: FakeCodex;

  before(async () => {
    fake = await startFakeCodex((r) => `PONG:${r.lastUser}`);
    world = new World('codex', { codex: { command: agentBins().codex } }, { FAKE_API_KEY: 'dummy' });
    const codexHome = join(world.agentDir, 'codex-home');
    mkdirSync(codexHome, { recursive: true });
    world.env.CODEX_HOME = codexHome;
    writeFileSync(join(codexHome, 'fake-model-catalog.json'), modelCatalog);
    writeFileSync(join(codexHome, 'config.toml'), codexConfig(fake.baseUrl, world.workspace, join(codexHome, 'fake-model-catalog.json')));
  });

  after(async () => {
    // acpx's queue owner outlives an invocation by its --ttl, the sidecars our agents started linger: dispose stops them.
    await world?.dispose();
    await fake?.close();
  });

  const acpx = (...args: string[]) =>
    run(process.execPath, [acpxBin, '--agent', world.command.join(' '), '--cwd', world.workspace, '--approve-all', '--ttl', '1', ...args], { env: world.processEnv(), timeout: 90_000 });

  it('acpx exec prints the fake model\'s answer', async () => {
    const { stdout } = await acpx('--format', 'quiet', 'exec', 'hello from acpx');
    assert.match(stdout, /PONG:hello from acpx/);
  });

  it('a persistent acpx session survives two invocations with its conversation', async () => {
    await acpx('sessions', 'new');
    const first = await acpx('--format', 'quiet', 'first persistent prompt');
    assert.match(first.stdout, /PONG:first persistent prompt/);
    const second = await acpx('--format', 'quiet', 'second persistent prompt');
    assert.match(second.stdout, /PONG:second persistent prompt/);
    assert.deepEqual(fake.requests.at(-1)!.users, ['first persistent prompt', 'second persistent prompt']);
  });

  it('the acpx configuration file of docs/acp.md names agents acpx runs by name', async () => {
    // As a user has it: the docs' ~/.acpx/config.json, our default data and config directories.
    const doc = readFileSync(join(repoRoot, 'docs', 'acp.md'), 'utf8');
    const config = doc.slice(doc.indexOf('**acpx**')).match(/```json\n([\s\S]*?)```/)![1].replaceAll('/path/to/agent-sidecar', repoRoot);
    mkdirSync(join(world.home, '.acpx'), { recursive: true });
    writeFileSync(join(world.home, '.acpx', 'config.json'), config);
    const configDir = join(world.home, '.config', 'agent-sidecar');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'providers.json'), readFileSync(join(world.configDir, 'providers.json')));
    const { stdout } = await run(process.execPath, [acpxBin, '--cwd', world.workspace, '--approve-all', '--ttl', '1', '--format', 'quiet', 'sidecar-codex', 'exec', 'hello through the config file'], { env: world.processEnv(), timeout: 90_000 });
    assert.match(stdout, /PONG:hello through the config file/);
    assert.ok(readdirSync(join(world.home, '.local', 'share', 'agent-sidecar')).includes('sidecar.db'), 'the default data directory was not used');
  });
});
