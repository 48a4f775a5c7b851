// One test's world for the ACP front door: temp data/config dirs and HOME, a workspace, the real
// agent's private home pointed at a fake model on 127.0.0.1, and `scripts/agent-sidecar acp`
// processes driven by @agentclientprotocol/sdk's client side.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as acp from '@agentclientprotocol/sdk';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const agentSidecar = join(repoRoot, 'scripts', 'agent-sidecar');

/** Nothing but loopback: a proxy that refuses (port 9) for everything else. */
export const loopbackOnly = {
  HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9',
  ALL_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
};

let bins: { codex: string; auggie: string; claude: string } | undefined;

/** The agent CLIs (scripts/install-agents.sh: cached, idempotent). */
export function agentBins() {
  if (!bins) {
    const r = spawnSync('bash', [join(repoRoot, 'scripts', 'install-agents.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`install-agents.sh failed (${r.status})`);
    const kv = (key: string) => (r.stdout.match(new RegExp(`^${key}=(.*)$`, 'm')) ?? [])[1] ?? '';
    bins = { codex: kv('CODEX_BIN'), auggie: kv('AUGGIE_BIN'), claude: kv('CLAUDE_BIN') };
  }
  return bins;
}

/** Polls `check` every 20 ms until it returns a truthy value (never a fixed sleep). */
export async function waitFor<T>(check: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class World {
  /** Short (the sidecar's unix socket path must fit in 108 bytes). */
  readonly base = mkdtempSync('/tmp/as-acp-');
  readonly dataDir = join(this.base, 'd');
  readonly configDir = join(this.base, 'c');
  readonly workspace = join(this.base, 'ws');
  readonly home = join(this.base, 'home');
  /** Outside the workspace: only an approved, escalated command may write there. */
  readonly outside = join(this.base, 'outside');
  /** Codex refuses to create its helper binaries under /tmp: its home lives in the checkout (ignored by git). */
  readonly agentDir = mkdtempSync(join(repoRoot, 'tests', 'acp', '.runs-'));
  env: Record<string, string> = {};
  private readonly processes: AcpProcess[] = [];

  constructor(readonly provider: string, providers: Record<string, unknown>, env: Record<string, string>) {
    for (const d of [this.dataDir, this.configDir, this.workspace, this.home, this.outside]) mkdirSync(d, { recursive: true });
    writeFileSync(join(this.workspace, 'README.md'), '# acp test workspace\n');
    writeFileSync(join(this.configDir, 'providers.json'), JSON.stringify(providers, null, 2));
    this.env = { HOME: this.home, ...loopbackOnly, ...env };
  }

  /** The command an ACP client runs (for acpx and editor configuration). */
  get command(): string[] {
    return [agentSidecar, 'acp', '--provider', this.provider, '--data-dir', this.dataDir, '--config-dir', this.configDir];
  }

  processEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env };
    delete env.AGENT_SIDECAR_DATA_DIR;
    return env;
  }

  /** Starts `agent-sidecar acp` and connects the SDK's client to it. */
  async acp(permission: (request: acp.RequestPermissionRequest) => acp.RequestPermissionResponse = rejectAll, argv = this.command, env = this.processEnv()): Promise<AcpProcess> {
    const p = new AcpProcess(this, permission, argv, env);
    this.processes.push(p);
    return p;
  }

  /** protocol v1 through the CLI (it reaches the running sidecar's socket, or starts one). */
  sessionsList(): any[] {
    const r = spawnSync(agentSidecar, ['sessions', 'list', '--json', '--limit', '100', '--data-dir', this.dataDir, '--config-dir', this.configDir], { encoding: 'utf8', env: this.processEnv() });
    if (r.status !== 0) throw new Error(`sessions list failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout).sessions;
  }

  /** The newest session of `sessionId`'s chain (/clears and replacements), through protocol v1. */
  chainHead(sessionId: string): any {
    const sessions = this.sessionsList();
    let current = sessions.find((s: any) => s.id === sessionId);
    while (current?.transitionedTo) current = sessions.find((s: any) => s.id === current.transitionedTo);
    return current;
  }

  async dispose() {
    for (const p of this.processes) await p.close();
    // The sidecars the ACP processes started linger after them (their own sessions, docs/acp.md):
    // a SIGTERM stops each gracefully (its agents too); whatever is left of the world then is killed.
    for (const pid of processesWith(this.base).filter((p) => commandLine(p).includes('--stdio'))) signal(pid, 'SIGTERM');
    await waitFor(() => processesWith(this.base).length === 0, 30_000, 'the lingering sidecars to stop').catch(() => undefined);
    for (const pid of processesWith(this.base)) signal(pid, 'SIGKILL');
    await waitFor(() => processesWith(this.base).length === 0, 10_000, 'the world\'s processes to end');
    rmSync(this.base, { recursive: true, force: true });
    rmSync(this.agentDir, { recursive: true, force: true });
  }
}

/** Live processes whose command line or environment names `text` (a world's directory: its sidecars, and the agents and shells with its HOME). */
export function processesWith(text: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid).filter((pid) => {
    try {
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) return false;
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) || readFileSync(`/proc/${pid}/environ`, 'utf8').includes(text);
    } catch { return false; }
  }).map(Number);
}

function commandLine(pid: number): string {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; }
}

function signal(pid: number, name: NodeJS.Signals) {
  try { process.kill(pid, name); } catch { /* gone */ }
}

export function rejectAll(request: acp.RequestPermissionRequest): acp.RequestPermissionResponse {
  const reject = request.options.find((o) => o.kind === 'reject_once') ?? request.options.find((o) => o.kind.startsWith('reject'));
  return reject ? { outcome: { outcome: 'selected', optionId: reject.optionId } } : { outcome: { outcome: 'cancelled' } };
}

export function allowOnce(request: acp.RequestPermissionRequest): acp.RequestPermissionResponse {
  const allow = request.options.find((o) => o.kind === 'allow_once') ?? request.options.find((o) => o.kind.startsWith('allow'));
  return allow ? { outcome: { outcome: 'selected', optionId: allow.optionId } } : { outcome: { outcome: 'cancelled' } };
}

/** One `agent-sidecar acp` process with the SDK's client connected to its stdio. */
export class AcpProcess {
  readonly child: ChildProcess;
  readonly connection: acp.ClientConnection;
  /** Every session/update received, in order. */
  readonly updates: acp.SessionNotification[] = [];
  readonly permissionRequests: acp.RequestPermissionRequest[] = [];
  stderr = '';
  private exited: Promise<number | null>;

  constructor(world: World, public permission: (request: acp.RequestPermissionRequest) => acp.RequestPermissionResponse, argv = world.command, env = world.processEnv()) {
    const [command, ...args] = argv;
    // Its own process group: whatever it starts (the sidecar, the agents) can be cleaned up with it.
    this.child = spawn(command, args, { cwd: world.workspace, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    const stream = acp.ndJsonStream(Writable.toWeb(this.child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(this.child.stdout!) as ReadableStream<Uint8Array>);
    this.connection = acp.client({ name: 'agent-sidecar-acp-tests' })
      .onNotification(acp.methods.client.session.update, (cx) => { this.updates.push(cx.params); })
      .onRequest(acp.methods.client.session.requestPermission, (cx) => {
        this.permissionRequests.push(cx.params);
        return this.permission(cx.params);
      })
      .connect(stream);
  }

  get agent() {
    return this.connection.agent;
  }

  initialize() {
    return this.agent.request(acp.methods.agent.initialize, { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: {}, clientInfo: { name: 'agent-sidecar-acp-tests', version: '1.0.0' } });
  }

  async newSession(cwd: string, mcpServers: acp.McpServer[] = []) {
    return (await this.agent.request(acp.methods.agent.session.new, { cwd, mcpServers })).sessionId;
  }

  /** Sends a prompt; returns its stop reason and the updates of the session that came meanwhile. */
  async prompt(sessionId: string, text: string | acp.ContentBlock[]) {
    const from = this.updates.length;
    const prompt = typeof text === 'string' ? [{ type: 'text' as const, text }] : text;
    const response = await this.agent.request(acp.methods.agent.session.prompt, { sessionId, prompt });
    return { stopReason: response.stopReason, updates: this.updates.slice(from).filter((u) => u.sessionId === sessionId).map((u) => u.update) };
  }

  cancel(sessionId: string) {
    return this.agent.notify(acp.methods.agent.session.cancel, { sessionId });
  }

  /** Ends stdin (the editor closed) and waits for the process; kills what is left of its group. */
  async close() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin!.end();
      const timer = setTimeout(() => this.kill(), 45_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.kill();
  }

  private kill() {
    try { process.kill(-this.child.pid!, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** The text of the agent_message_chunk updates, joined. */
export function agentText(updates: acp.SessionUpdate[]): string {
  return updates.filter((u) => u.sessionUpdate === 'agent_message_chunk').map((u) => (u as any).content?.text ?? '').join('');
}

/** The tool call updates (tool_call and tool_call_update) of one call, in order. */
export function toolCalls(updates: acp.SessionUpdate[]): Map<string, any[]> {
  const calls = new Map<string, any[]>();
  for (const u of updates) {
    if (u.sessionUpdate !== 'tool_call' && u.sessionUpdate !== 'tool_call_update') continue;
    const id = (u as any).toolCallId;
    calls.set(id, [...(calls.get(id) ?? []), u]);
  }
  return calls;
}

export function contentText(call: any[]): string {
  return call.flatMap((u) => u.content ?? []).map((c: any) => c.content?.text ?? '').join('\n');
}
