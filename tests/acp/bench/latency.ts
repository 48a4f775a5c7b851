// The speed of a trivial chat turn through our ACP front door and through protocol v1, beside Zed's
// @zed-industries/codex-acp (Codex's core without its TUI), in one run, against one fake model on
// 127.0.0.1 (docs/acp.md "Speed", docs/benchmarks.md). Not part of `npm test`:
//   cd tests/acp && node --import tsx bench/latency.ts [turns]
// Each round sends the same text ("turn N") to every participant, in an order that rotates from
// round to round; the first rounds are warm-up and not counted. Per turn, on one clock: send → the
// fake model has read the request, → its answer's first and last byte, → the result at the client.
// Our participants run the real Codex TUI (scripts/install-agents.sh) in a sidecar session.
//
// Environment:
//   BENCH_VARIANT='{"submitDelayMs":0}' adds a second sidecar whose Codex profile has this `input`
//     override (providers.json), driven the same way ("… (variant)"): a profile change measured
//     beside the built-in one in the same run.
//   AGENT_SIDECAR_STAMPS=FILE, with a sidecar built with wall-clock stamps (`git apply
//     tests/acp/bench/stamps.patch`, build, and never commit it; the breakdown in docs/benchmarks.md):
//     stamps within a turn are reported as p50/p99 offsets from send.
// Prints a JSON report.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import * as rpc from 'vscode-jsonrpc/node.js';
import { codexConfig, modelCatalog } from '../../../extension/e2e/fakeCodexServer.mjs';
import { startFakeCodex } from '../test/fakes/codexServer.ts';
import { agentBins, agentText, loopbackOnly, repoRoot, World } from '../test/harness.ts';

const turns = Number(process.argv[2] ?? 30);
const warmUp = 3;
const variant = process.env.BENCH_VARIANT ? JSON.parse(process.env.BENCH_VARIANT) : undefined;
const stampsFile = process.env.AGENT_SIDECAR_STAMPS;
const fake = await startFakeCodex((r) => `PONG:${r.lastUser}`);
/** performance.now() as Unix epoch milliseconds (the sidecar's stamps are wall-clock). */
const epoch = (t: number) => performance.timeOrigin + t;

interface Participant { name: string; turn(text: string): Promise<void>; close?(): Promise<void> }
type Sample = { send: number; request: number; firstByte: number; lastByte: number; result: number };

/** A private CODEX_HOME (in the checkout: Codex refuses to create its helpers under /tmp) pointing at the fake. */
function codexHome(dir: string, trusted: string[]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fake-model-catalog.json'), modelCatalog);
  const trust = trusted.slice(1).map((ws) => `\n[projects.${JSON.stringify(ws)}]\ntrust_level = "trusted"\n`).join('');
  writeFileSync(join(dir, 'config.toml'), codexConfig(fake.baseUrl, trusted[0], join(dir, 'fake-model-catalog.json')) + trust);
  return dir;
}

const check = (name: string, text: string, answer: string) => {
  if (!answer.includes(`PONG:${text}`)) throw new Error(`${name}, ${text}: answered ${JSON.stringify(answer)}`);
};

/** Our sidecar with the real Codex: the ACP door and protocol v1 (its socket), each with its own session. */
async function ours(label: string, input?: Record<string, unknown>): Promise<{ world: World; participants: Participant[] }> {
  const provider: Record<string, unknown> = { command: agentBins().codex, ...(input ? { input } : {}) };
  const world = new World('codex', { codex: provider }, { FAKE_API_KEY: 'dummy', ...(stampsFile ? { AGENT_SIDECAR_STAMPS: stampsFile } : {}) });
  const v1Workspace = join(world.base, 'ws-v1');
  mkdirSync(v1Workspace);
  world.env.CODEX_HOME = codexHome(join(world.agentDir, 'codex-home'), [world.workspace, v1Workspace]);

  const door = await world.acp();
  await door.initialize();
  const sessionId = await door.newSession(world.workspace);
  const viaAcp: Participant = {
    name: `ACP${label}`,
    async turn(text) {
      const { stopReason, updates } = await door.prompt(sessionId, text);
      if (stopReason !== 'end_turn') throw new Error(`ACP${label}, ${text}: ${stopReason}`);
      check(`ACP${label}`, text, agentText(updates));
    },
  };

  const socket = join(world.dataDir, 'run', readdirSync(join(world.dataDir, 'run')).find((f) => f.endsWith('.sock'))!);
  const stream = createConnection(socket);
  const v1 = rpc.createMessageConnection(new rpc.StreamMessageReader(stream), new rpc.StreamMessageWriter(stream));
  v1.listen();
  await v1.sendRequest('initialize', { processId: process.pid, clientInfo: { name: 'acp-latency-bench', version: '1' } });
  await v1.sendNotification('initialized', {});
  const session: any = await v1.sendRequest('session/start', { workspace: v1Workspace, provider: 'codex' });
  const viaV1: Participant = {
    name: `protocol v1${label}`,
    async turn(text) {
      const result: any = await v1.sendRequest('chat/send', { sessionId: session.id, text });
      if (result.status !== 'completed') throw new Error(`v1${label}, ${text}: ${JSON.stringify(result)}`);
      check(`v1${label}`, text, result.text);
    },
    async close() {
      v1.dispose();
      stream.end();
    },
  };
  return { world, participants: [viaAcp, viaV1] };
}

/** @zed-industries/codex-acp (its linux-x64 build from node_modules) on the same fake, driven by the SDK's client. */
async function codexAcp(world: World): Promise<Participant> {
  const bin = join(repoRoot, 'tests', 'acp', 'node_modules', '@zed-industries', `codex-acp-${process.platform}-${process.arch}`, 'bin', 'codex-acp');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm ci in tests/acp`);
  const workspace = join(world.base, 'ws-codex-acp');
  mkdirSync(workspace);
  const home = codexHome(join(world.agentDir, 'codex-acp-home'), [workspace]);
  const child = spawn(bin, [], { cwd: workspace, env: { ...process.env, ...loopbackOnly, HOME: world.home, CODEX_HOME: home, FAKE_API_KEY: 'dummy' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  const updates: acp.SessionNotification[] = [];
  const connection = acp.client({ name: 'acp-latency-bench' })
    .onNotification(acp.methods.client.session.update, (cx) => { updates.push(cx.params); })
    .onRequest(acp.methods.client.session.requestPermission, () => ({ outcome: { outcome: 'cancelled' } }))
    .connect(acp.ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>));
  await connection.agent.request(acp.methods.agent.initialize, { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: {}, clientInfo: { name: 'acp-latency-bench', version: '1' } });
  const { sessionId } = await connection.agent.request(acp.methods.agent.session.new, { cwd: workspace, mcpServers: [] });
  return {
    name: 'codex-acp',
    async turn(text) {
      const from = updates.length;
      const { stopReason } = await connection.agent.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: 'text', text }] });
      if (stopReason !== 'end_turn') throw new Error(`codex-acp, ${text}: ${stopReason}; ${stderr.slice(-2000)}`);
      check('codex-acp', text, agentText(updates.slice(from).filter((u) => u.sessionId === sessionId).map((u) => u.update)));
    },
    async close() {
      child.kill('SIGTERM');
    },
  };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, p50: +at(0.5).toFixed(1), p99: +at(0.99).toFixed(1) };
};

/** The sidecar's stamps (AGENT_SIDECAR_STAMPS) that fall within each turn, as p50 offsets from send. */
function breakdown(samples: Sample[]) {
  if (!stampsFile || !existsSync(stampsFile)) return undefined;
  const stamps = readFileSync(stampsFile, 'utf8').trim().split('\n').map((l) => {
    const [us, , what] = l.split(' ');
    return { at: Number(us) / 1000, what };
  });
  const offsets = new Map<string, number[]>();
  const add = (what: string, ms: number) => offsets.set(what, [...(offsets.get(what) ?? []), ms]);
  for (const x of samples) {
    const send = epoch(x.send);
    for (const s of stamps) if (s.at >= send && s.at <= epoch(x.result)) add(s.what, s.at - send);
    add('fake: request read', x.request - x.send);
    add('fake: first byte', x.firstByte - x.send);
    add('fake: last byte', x.lastByte - x.send);
    add('client: result', x.result - x.send);
  }
  return Object.fromEntries([...offsets].map(([what, xs]) => [what, stats(xs)]).sort((a: any, b: any) => a[1].p50 - b[1].p50));
}

const worlds: World[] = [];
const participants: Participant[] = [];
try {
  const main = await ours('');
  worlds.push(main.world);
  participants.push(await codexAcp(main.world), ...main.participants);
  if (variant) {
    const old = await ours(' (variant)', variant);
    worlds.push(old.world);
    participants.push(...old.participants);
  }
  const samples = new Map<string, Sample[]>(participants.map((p) => [p.name, []]));
  const load = [readFileSync('/proc/loadavg', 'utf8').trim()];
  const started = new Date().toISOString();
  for (let i = 0; i < turns + warmUp; i++) {
    // The same text for everyone; the order rotates so that none always goes first or last.
    const order = participants.map((_, k) => participants[(k + i) % participants.length]);
    for (const p of order) {
      const send = performance.now();
      await p.turn(`turn ${i}`);
      const result = performance.now();
      if (i >= warmUp) samples.get(p.name)!.push({ send, request: fake.requestAt, firstByte: fake.firstByteAt, lastByte: fake.lastByteAt, result });
    }
  }
  load.push(readFileSync('/proc/loadavg', 'utf8').trim());
  const report: Record<string, unknown> = {};
  for (const [name, xs] of samples) {
    report[name] = {
      sendToResult: stats(xs.map((x) => x.result - x.send)),
      sendToRequest: stats(xs.map((x) => x.request - x.send)),
      lastByteToResult: stats(xs.map((x) => x.result - x.lastByte)),
      breakdown: breakdown(xs),
    };
  }
  const p50 = (name: string) => (report[name] as any)?.sendToResult.p50;
  const ratios = Object.fromEntries(participants.filter((p) => p.name !== 'codex-acp').map((p) => [`${p.name} ÷ codex-acp (send → result p50)`, +(p50(p.name) / p50('codex-acp')).toFixed(2)]));
  console.log(JSON.stringify({ started, turns, warmUp, loadavg: load, variant, ...report, ratios }, null, 2));
} finally {
  for (const p of participants) await p.close?.();
  for (const w of worlds) await w.dispose();
  await fake.close();
}
