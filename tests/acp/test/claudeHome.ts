// What the real Claude Code needs to run offline in a test world: its environment pointed at a fake
// Messages API, and a seeded ~/.claude.json that skips its first-run screens (welcome, theme, API
// key, trust).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { World } from './harness.ts';

/** An Anthropic-looking key; Claude Code remembers approved keys by their last 20 characters. */
export const claudeApiKey = 'sk-ant-api03-fake-key-for-tests-only-0123456789abcdefABCDEF';

/** Claude Code's environment for a fake model at `baseUrl`, nothing sent anywhere else. */
export function claudeEnv(baseUrl: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_API_KEY: claudeApiKey, DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1', DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_BUG_COMMAND: '1', DISABLE_COST_WARNINGS: '1',
  };
}

/** Seeds the world's HOME so Claude Code (`claudeBin`) starts straight at its prompt in the workspace. */
export function seedClaudeHome(world: World, claudeBin: string) {
  const version = (execFileSync(claudeBin, ['--version'], { encoding: 'utf8', env: { ...process.env, DISABLE_AUTOUPDATER: '1' } }).match(/\d+\.\d+\.\d+\S*/) ?? [''])[0];
  mkdirSync(join(world.home, '.claude'), { recursive: true });
  writeFileSync(join(world.home, '.claude.json'), JSON.stringify({
    hasCompletedOnboarding: true, lastOnboardingVersion: version, theme: 'dark',
    customApiKeyResponses: { approved: [claudeApiKey.slice(-20)], rejected: [] },
    projects: { [world.workspace]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] } },
  }, null, 2));
}
