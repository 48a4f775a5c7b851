// The core ACP cases with the real Claude Code, offline, against a fake Messages API on 127.0.0.1.
// In its manual permission mode (--permission-mode default) it asks before a Bash command:
// approvals are tested both ways.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeAnthropic } from './fakes/anthropicServer.ts';
import { coreCases } from './coreCases.ts';
import { agentBins, World } from './harness.ts';

/** An Anthropic-looking key; Claude Code remembers approved keys by their last 20 characters. */
const apiKey = 'sk-ant-api03-fake-key-for-tests-only-0123456789abcdefABCDEF';

coreCases({
  provider: 'claude',
  asks: true,
  command: (command) => ({ tool: { name: 'Bash', input: { command, description: 'Run a command' } } }),
  async setup(responder) {
    const claude = agentBins().claude;
    const version = (execFileSync(claude, ['--version'], { encoding: 'utf8', env: { ...process.env, DISABLE_AUTOUPDATER: '1' } }).match(/\d+\.\d+\.\d+\S*/) ?? [''])[0];
    const fake = await startFakeAnthropic(responder);
    const world = new World('claude', { claude: { command: claude, args: ['--permission-mode', 'default'] } }, {
      ANTHROPIC_BASE_URL: fake.baseUrl, ANTHROPIC_API_KEY: apiKey, DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1', DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_BUG_COMMAND: '1', DISABLE_COST_WARNINGS: '1',
    });
    // Its first-run screens (welcome, theme, API key, trust) are skipped by a seeded ~/.claude.json.
    mkdirSync(join(world.home, '.claude'), { recursive: true });
    writeFileSync(join(world.home, '.claude.json'), JSON.stringify({
      hasCompletedOnboarding: true, lastOnboardingVersion: version, theme: 'dark',
      customApiKeyResponses: { approved: [apiKey.slice(-20)], rejected: [] },
      projects: { [world.workspace]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] } },
    }, null, 2));
    return { world, requests: fake.requests, close: fake.close };
  },
});
