// The core ACP cases with the real Auggie CLI, offline, against a fake Augment backend on 127.0.0.1.
// With the seeded home Auggie runs its tools without asking: no approval round trip here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeAuggie } from './fakes/auggieServer.ts';
import { coreCases } from './coreCases.ts';
import { agentBins, World } from './harness.ts';

coreCases({
  provider: 'auggie',
  asks: false,
  command: (command) => ({ tool: { name: 'launch-process', input: { command, wait: true, max_wait_seconds: 30, cwd: '.' } } }),
  async setup(responder) {
    const fake = await startFakeAuggie(responder);
    const world = new World('auggie', { auggie: { command: process.execPath, args: [agentBins().auggie] } }, {
      AUGMENT_SESSION_AUTH: JSON.stringify({ accessToken: 'fake-token', tenantURL: fake.tenantUrl, scopes: ['read', 'write'] }),
      AUGMENT_DISABLE_AUTO_UPDATE: '1',
      NODE_NO_WARNINGS: '1',
    });
    // Its first-run screens (welcome, indexing permission) are skipped by a seeded ~/.augment.
    const augment = join(world.home, '.augment');
    mkdirSync(augment, { recursive: true });
    writeFileSync(join(augment, '.auggie.json'), JSON.stringify({ onboardingVersion: '1.0.0' }));
    writeFileSync(join(augment, 'settings.json'), JSON.stringify({ indexingDenyDirs: [world.workspace] }));
    return { world, requests: fake.requests, close: fake.close };
  },
});
