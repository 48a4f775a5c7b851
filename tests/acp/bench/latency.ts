// The speed of a chat turn through the ACP front door beside the same through protocol v1, in one
// run, against the real Codex and one fake model (docs/acp.md, "Speed"). Not part of `npm test`:
//   node --import tsx tests/acp/bench/latency.ts [turns]
// For each trivial turn: last byte → result (the fake's final answer byte, stamped on the same
// clock, to the result at the client) and send → result. Prints a JSON report.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import * as rpc from 'vscode-jsonrpc/node.js';
import { codexConfig, modelCatalog } from '../../../extension/e2e/fakeCodexServer.mjs';
import { startFakeCodex } from '../test/fakes/codexServer.ts';
import { agentBins, World } from '../test/harness.ts';

const turns = Number(process.argv[2] ?? 30);
const warmUp = 3;
const fake = await startFakeCodex((r) => `PONG:${r.lastUser}`);
const world = new World('codex', { codex: { command: agentBins().codex } }, { FAKE_API_KEY: 'dummy' });
const codexHome = join(world.agentDir, 'codex-home');
mkdirSync(codexHome, { recursive: true });
world.env.CODEX_HOME = codexHome;
const v1Workspace = join(world.base, 'ws-v1');
mkdirSync(v1Workspace);
writeFileSync(join(codexHome, 'fake-model-catalog.json'), modelCatalog);
const trust = (ws: string) => `\n[projects.${JSON.stringify(ws)}]\ntrust_level = "trusted"\n`;
writeFileSync(join(codexHome, 'config.toml'), codexConfig(fake.baseUrl, world.workspace, join(codexHome, 'fake-model-catalog.json')) + trust(v1Workspace));

type Sample = { lastByteToResult: number; sendToResult: number };
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, p50: +at(0.5).toFixed(1), p99: +at(0.99).toFixed(1) };
};
const report = (samples: Sample[]) => ({ lastByteToResult: stats(samples.map((x) => x.lastByteToResult)), sendToResult: stats(samples.map((x) => x.sendToResult)) });

async function measure(turn: (text: string) => Promise<void>): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < turns + warmUp; i++) {
    const sent = performance.now();
    await turn(`turn ${i}`);
    const done = performance.now();
    if (i >= warmUp) samples.push({ lastByteToResult: done - fake.lastByteAt, sendToResult: done - sent });
  }
  return samples;
}

try {
  const acp = await world.acp();
  await acp.initialize();
  const sessionId = await acp.newSession(world.workspace);
  const viaAcp = await measure(async (text) => {
    const { stopReason, updates } = await acp.prompt(sessionId, text);
    if (stopReason !== 'end_turn' || !updates.some((u: any) => u.content?.text?.includes(`PONG:${text}`))) throw new Error(`${text}: ${stopReason}`);
  });

  // protocol v1 on the same sidecar (its socket), another workspace so it is another session.
  const socket = join(world.dataDir, 'run', readdirSync(join(world.dataDir, 'run')).find((f) => f.endsWith('.sock'))!);
  const stream = createConnection(socket);
  const v1 = rpc.createMessageConnection(new rpc.StreamMessageReader(stream), new rpc.StreamMessageWriter(stream));
  v1.listen();
  await v1.sendRequest('initialize', { processId: process.pid, clientInfo: { name: 'acp-latency-bench', version: '1' } });
  await v1.sendNotification('initialized', {});
  const session: any = await v1.sendRequest('session/start', { workspace: v1Workspace, provider: 'codex' });
  const viaV1 = await measure(async (text) => {
    const result: any = await v1.sendRequest('chat/send', { sessionId: session.id, text });
    if (result.status !== 'completed' || result.text !== `PONG:${text}`) throw new Error(`${text}: ${JSON.stringify(result)}`);
  });
  v1.dispose();
  stream.end();
  console.log(JSON.stringify({ turns, acp: report(viaAcp), protocolV1: report(viaV1) }, null, 2));
} finally {
  await world.dispose();
  await fake.close();
}
