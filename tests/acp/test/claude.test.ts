// The core ACP cases with the real Claude Code, offline, against a fake Messages API on 127.0.0.1.
// In its manual permission mode (--permission-mode default) it asks before a Bash command:
// approvals are tested both ways.
import { startFakeAnthropic } from './fakes/anthropicServer.ts';
import { claudeEnv, seedClaudeHome } from './claudeHome.ts';
import { coreCases } from './coreCases.ts';
import { agentBins, World } from './harness.ts';

coreCases({
  provider: 'claude',
  asks: true,
  command: (command) => ({ tool: { name: 'Bash', input: { command, description: 'Run a command' } } }),
  async setup(responder) {
    const claude = agentBins().claude;
    const fake = await startFakeAnthropic(responder);
    const world = new World('claude', { claude: { command: claude, args: ['--permission-mode', 'default'] } }, claudeEnv(fake.baseUrl));
    seedClaudeHome(world, claude);
    return { world, requests: fake.requests, close: fake.close };
  },
});
