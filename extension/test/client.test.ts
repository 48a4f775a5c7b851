import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseError } from 'vscode-jsonrpc/node';
import { Logger, SidecarClient, SidecarError } from '../src/sidecar/client';
import { RestartPolicy } from '../src/sidecar/restartPolicy';
import { FakeSidecar, until } from './fakeSidecar';
import type { SessionEvent } from '../src/protocol/events';
import { GetSession, ListProviders } from '../src/protocol/methods';

function setup(handlers: ConstructorParameters<typeof FakeSidecar>[0] = {}, policy = new RestartPolicy({ maxCrashes: 3, windowMs: 60_000 })) {
  const fakes: FakeSidecar[] = [];
  const lines: string[] = [];
  const logger: Logger = { info: (m) => process.env.DBG && console.error(m), warn: (m) => process.env.DBG && console.error(m), error: (m) => (process.env.DBG && console.error(m), lines.push(`error: ${m}`)), server: (l) => lines.push(l) };
  const client = new SidecarClient({
    spawn: () => {
      const f = new FakeSidecar(handlers);
      fakes.push(f);
      return f;
    },
    initializationOptions: () => ({ defaultProvider: 'shell' }),
    clientInfo: { name: 'test' },
    logger,
    restartPolicy: policy,
    stopTimeoutMs: 500,
  });
  return { client, fakes, lines };
}

test('starts, initializes with the settings, and pipes stderr lines to the log', async () => {
  const { client, fakes, lines } = setup();
  await client.start();
  assert.equal(client.state, 'running');
  const init = fakes[0].requests.find((r) => r.method === 'initialize');
  assert.deepEqual(init?.params.initializationOptions, { defaultProvider: 'shell' });
  assert.equal(init?.params.clientInfo.name, 'test');
  fakes[0].stderr.write('info: hello\nwarn: partial');
  fakes[0].stderr.write(' line\n');
  await until(() => lines.includes('warn: partial line'));
  assert.ok(lines.includes('info: hello'));
  await client.stop();
  assert.equal(client.state, 'stopped');
});

test('protocol errors become SidecarError with the code and data', async () => {
  const { client } = setup({ 'session/get': () => { throw new ResponseError(1001, 'session not found', { sessionId: 'x' }); } });
  await assert.rejects(client.request(GetSession.type, { sessionId: 'x' }), (err: unknown) => err instanceof SidecarError && err.code === 1001 && (err.data as any).sessionId === 'x');
  await client.stop();
});

test('after a crash the sidecar is restarted and every attachment re-attaches from its cursor, across a /clear', async () => {
  const { client, fakes } = setup();
  await client.start();
  const seen: SessionEvent[] = [];
  const attachment = await client.attach({ sessionId: 's1', afterSeq: 0, channels: ['pty'], onEvent: (e) => seen.push(e) });
  const first = attachment.attachId!;
  await fakes[0].event(first, 's1', 1);
  await fakes[0].event(first, 's1', 2);
  await fakes[0].event(first, 's2', 1, 'transition', 'system', { from: 's1', trigger: 'session/clear' }); // followed the /clear
  await until(() => seen.length === 3);
  let restarted = false;
  client.onDidRestart(() => (restarted = true));
  fakes[0].die(137);
  await until(() => restarted);
  assert.equal(fakes.length, 2);
  assert.deepEqual(fakes[1].attaches(), [{ sessionId: 's2', afterSeq: 1, channels: ['pty'] }]);
  const second = attachment.attachId!;
  assert.notEqual(second, first);
  // An overlapping replay is dropped; new events flow.
  await fakes[1].event(second, 's2', 1, 'transition', 'system', { from: 's1', trigger: 'session/clear' });
  await fakes[1].event(second, 's2', 2);
  await until(() => seen.length === 4);
  assert.deepEqual(seen.map((e) => `${e.sessionId}:${e.seq}`), ['s1:1', 's1:2', 's2:1', 's2:2']);
  await client.stop();
});

test('an overflow detach re-attaches from the cursor; a deleted session ends the attachment', async () => {
  const { client, fakes } = setup();
  await client.start();
  const seen: number[] = [];
  let ended = '';
  const a = await client.attach({ sessionId: 's1', onEvent: (e) => seen.push(e.seq), onEnded: (r) => (ended = r) });
  await fakes[0].event(a.attachId!, 's1', 1);
  await until(() => seen.length === 1);
  await fakes[0].connection.sendNotification('session/detached', { attachId: a.attachId, reason: 'overflow', lastSeq: 5, sessionId: 's1' });
  await until(() => fakes[0].attaches().length === 2);
  assert.deepEqual(fakes[0].attaches()[1], { sessionId: 's1', afterSeq: 1 });
  await until(() => a.attachId !== undefined);
  await fakes[0].connection.sendNotification('session/detached', { attachId: a.attachId, reason: 'deleted', lastSeq: 5, sessionId: 's1' });
  await until(() => ended === 'deleted');
  assert.equal(a.disposed, true);
  await client.stop();
});

test('events are delivered parsed; an unknown one is skipped, a malformed one is logged and skipped, and both move the cursor', async () => {
  const { client, fakes, lines } = setup();
  await client.start();
  const seen: string[] = [];
  const a = await client.attach({ sessionId: 's1', onEvent: (e) => seen.push(e.channel === 'pty' && e.type === 'output' ? e.data.data : `${e.channel}/${e.type}`) });
  await fakes[0].event(a.attachId!, 's1', 1);
  await fakes[0].event(a.attachId!, 's1', 2, 'reaction', 'chat', { emoji: 'ok' });
  await fakes[0].event(a.attachId!, 's1', 3, 'user', 'chat', { turnId: 't1', text: 'hi' });
  await until(() => lines.some((l) => l.includes('malformed chat/user event')));
  assert.match(lines.find((l) => l.includes('malformed'))!, /session s1, seq 3\): data\.source must be a string.*skipped/);
  await fakes[0].connection.sendNotification('session/detached', { attachId: a.attachId, reason: 'overflow', lastSeq: 3, sessionId: 's1' });
  await until(() => fakes[0].attaches().length === 2);
  assert.equal(fakes[0].attaches()[1].afterSeq, 3, 're-attached after the events it could not read');
  await until(() => a.attachId !== undefined);
  await fakes[0].event(a.attachId!, 's1', 4, 'turn', 'chat', { turnId: 't1', status: 'completed', durationMs: 3 });
  await until(() => seen.length === 2);
  assert.deepEqual(seen, ['e1', 'chat/turn']);
  await client.stop();
});

test('disposing an attachment detaches it and stops its events', async () => {
  const { client, fakes } = setup();
  await client.start();
  const seen: number[] = [];
  const a = await client.attach({ sessionId: 's1', onEvent: (e) => seen.push(e.seq) });
  const id = a.attachId!;
  a.dispose();
  await until(() => fakes[0].requests.some((r) => r.method === 'session/detach' && r.params.attachId === id));
  await fakes[0].event(id, 's1', 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, []);
  await client.stop();
});

test('gives up after too many crashes, says why, and start() retries', async () => {
  let crashOnStart = true;
  const { client, fakes } = setup({ initialize: (_p, fake) => {
    if (!crashOnStart) return { protocolVersion: '1', serverInfo: { name: 'fake', version: '0', pid: fake.pid }, capabilities: { methods: [], channels: [] }, providers: [] };
    setImmediate(() => fake.die(1));
    return new Promise(() => undefined);
  } }, new RestartPolicy({ maxCrashes: 3, windowMs: 60_000 }));
  let gaveUp = '';
  client.onDidGiveUp((e) => (gaveUp = e.reason));
  await assert.rejects(client.start(), /not running/);
  await until(() => client.state === 'failed', 10_000);
  assert.equal(fakes.length, 3, 'two restarts, then it gives up at the third crash');
  assert.match(gaveUp, /crashed 3 times/);
  await assert.rejects(client.request(ListProviders.type, {}), /not running/);
  crashOnStart = false;
  await client.start();
  assert.equal(client.state, 'running');
  await client.stop();
});

test('an initialize error (a bad setting) is not restarted in a loop', async () => {
  const { client, fakes } = setup({ initialize: () => { throw new ResponseError(-32602, "initializationOptions: 'endpoint' is not a URL", { field: 'initializationOptions.metrics' }); } });
  let gaveUp = '';
  client.onDidGiveUp((e) => (gaveUp = e.reason));
  await assert.rejects(client.start());
  await until(() => client.state === 'failed');
  assert.equal(fakes.length, 1);
  assert.match(gaveUp, /not a URL/);
});

test('a sidecar that says it cannot start (exit 2) is not restarted: the user is told its reason', async () => {
  const { client, fakes } = setup({ initialize: (_p, fake) => {
    fake.stderr.write('agent-sidecar: cannot start: /home/u/notes is not empty and is not an agent-sidecar data directory (found: a.txt)\n');
    setImmediate(() => fake.die(2));
    return new Promise(() => undefined);
  } });
  let gaveUp = '';
  client.onDidGiveUp((e) => (gaveUp = e.reason));
  await assert.rejects(client.start());
  await until(() => client.state === 'failed');
  assert.equal(fakes.length, 1, 'no restart');
  assert.match(gaveUp, /^cannot start: \/home\/u\/notes is not empty/);
});

test('a sidecar that cannot be spawned fails at once with the reason', async () => {
  const client = new SidecarClient({
    spawn: () => { throw new Error('no sidecar found: set agentSidecar.serverPath'); },
    initializationOptions: () => ({}),
    clientInfo: { name: 'test' },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined, server: () => undefined },
  });
  await assert.rejects(client.start(), /serverPath/);
  assert.equal(client.state, 'failed');
});

test('window/logMessage from the sidecar lands in the log at its level', async () => {
  const { client, fakes, lines } = setup();
  await client.start();
  await fakes[0].connection.sendNotification('window/logMessage', { type: 1, message: 'committing to the event log failed' });
  await fakes[0].connection.sendNotification('window/logMessage', { type: 2, message: 'metrics sync failed: HTTP 503' });
  await until(() => lines.includes('error: sidecar: committing to the event log failed'));
  assert.ok(!lines.some((l) => l.includes('HTTP 503')), 'a warning is not logged as an error');
  await client.stop();
});
