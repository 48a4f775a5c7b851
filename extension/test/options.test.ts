import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initializationOptions, resolveServer, serverArgs } from '../src/sidecar/options';

test('the serverPath setting wins, then the bundled sidecar, then the checkout launcher', () => {
  const none = () => false;
  assert.deepEqual(resolveServer('/ext', ' /opt/sc ', none), { command: '/opt/sc', args: [], origin: 'setting' });
  assert.equal(resolveServer('/ext', '', (p) => p === '/ext/server/agent-sidecar')?.origin, 'bundled');
  assert.deepEqual(resolveServer('/repo/extension', '', (p) => p === '/repo/scripts/agent-sidecar'), { command: '/repo/scripts/agent-sidecar', args: [], origin: 'development' });
  assert.equal(resolveServer('/ext', '', none), undefined);
});

test('settings become initializationOptions; unset ones are left out', () => {
  const settings: Record<string, unknown> = { defaultProvider: 'codex', providers: { codex: { command: '/x/codex' } }, metricsEndpoint: 'http://127.0.0.1:1/m', metrics: { intervalSeconds: 60 }, dataDir: '' };
  assert.deepEqual(initializationOptions((k) => settings[k] as never), {
    defaultProvider: 'codex',
    providers: { codex: { command: '/x/codex' } },
    metrics: { intervalSeconds: 60, endpoint: 'http://127.0.0.1:1/m' },
  });
  assert.deepEqual(initializationOptions(() => undefined), {});
  assert.deepEqual(serverArgs(''), ['--stdio']);
  assert.deepEqual(serverArgs('/d'), ['--stdio', '--data-dir', '/d']);
});
