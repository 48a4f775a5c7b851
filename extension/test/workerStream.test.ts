import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timers, WorkerStream, exitCodeOf } from '../src/terminals/workerStream';
import { SessionEvent, parseSessionEvent } from '../src/protocol/events';

let seq = 0;
/** An event as the sidecar sends it, through the parser the client uses. */
function ev(channel: string, type: string, data: Record<string, unknown>, workerId?: string, sessionId = 's1'): SessionEvent {
  const e = parseSessionEvent({ sessionId, seq: ++seq, ts: '', channel, type, ...(workerId ? { workerId } : {}), data });
  assert.ok(e, `${channel}/${type} is a known event`);
  return e;
}
const output = (text: string, w = 'w1') => ev('pty', 'output', { data: text }, w);
const exit = (data: Record<string, unknown>, w = 'w1') => ev('pty', 'exit', data, w);
const status = (s: string, reason?: string, sessionId = 's1') => ev('system', 'status', { status: s, ...(reason ? { reason } : {}) }, undefined, sessionId);
const started = (id = 'w1') => ev('system', 'worker', { action: 'started', worker: { id, sessionId: 's1', kind: 'terminal', name: 'shell', status: 'running', cols: 80, rows: 24 } });

function setup(kind: 'agent' | 'terminal' = 'terminal') {
  const written: string[] = [];
  const closed: (number | undefined)[] = [];
  let restarts = 0;
  const pending = new Map<number, () => void>();
  let next = 0;
  const timers: Timers = {
    setTimeout: (fn) => (pending.set(++next, fn), next),
    clearTimeout: (h) => pending.delete(h as number),
  };
  const stream = new WorkerStream('w1', kind, { write: (t) => written.push(t), close: (c) => closed.push(c), restarted: () => restarts++ }, timers, 1000);
  const fireTimers = () => { for (const [id, fn] of [...pending]) (pending.delete(id), fn()); };
  return { stream, written, closed, restarts: () => restarts, pending, fireTimers };
}

test('output of this worker is written; other workers are ignored', () => {
  const t = setup();
  t.stream.onEvent(output('hello'));
  t.stream.onEvent(output('other', 'w2'));
  t.stream.onEvent(exit({ exitCode: 0 }, 'w2'));
  assert.deepEqual(t.written, ['hello']);
  assert.equal(t.stream.phase, 'running');
});

test('a shell that exits by itself closes its terminal at once with its exit code', () => {
  const t = setup('terminal');
  t.stream.onEvent(exit({ exitCode: 3 }));
  assert.deepEqual(t.closed, [3]);
  assert.equal(t.stream.phase, 'closed');
});

test('an owner-lost exit keeps the terminal with a note, and the same worker continues on resume', () => {
  const t = setup('terminal');
  t.stream.onEvent(output('$ echo hi\r\nhi\r\n$ '));
  t.stream.onEvent(exit({ signal: 9, reason: 'owner-lost' }));
  assert.deepEqual(t.closed, []);
  assert.equal(t.stream.phase, 'paused');
  assert.match(t.written.at(-1)!, /the sidecar restarted; this process ended/);
  t.stream.onEvent(status('suspended', 'owner-lost'));
  assert.equal(t.stream.phase, 'paused');
  assert.equal(t.written.length, 2, 'one note only');
  t.stream.onEvent(status('active', 'resumed'));
  t.stream.onEvent(started());
  assert.equal(t.stream.phase, 'running');
  assert.equal(t.restarts(), 1);
  t.stream.onEvent(output('$ '));
  assert.equal(t.written.at(-1), '$ ');
  assert.deepEqual(t.closed, []);
});

test('a suspend: the exits come first, the status after; the terminal stays with a note', () => {
  const t = setup('agent');
  t.stream.onEvent(output('\x1b[?1049hTUI'));
  t.stream.onEvent(exit({ exitCode: 0 }));
  assert.equal(t.stream.phase, 'exiting');
  assert.equal(t.pending.size, 1);
  t.stream.onEvent(status('suspended', 'suspended'));
  assert.equal(t.stream.phase, 'paused');
  assert.equal(t.pending.size, 0, 'the grace timer is cleared');
  // The note leaves the alternate screen so it is not painted over the TUI.
  assert.match(t.written.at(-1)!, /^\x1b\[\?1049l.*the session was suspended/s);
  t.stream.onEvent(started());
  assert.equal(t.stream.phase, 'running');
  assert.deepEqual(t.closed, []);
});

test('a shell stopped by a signal while its session ends closes with 128+signal', () => {
  const t = setup('terminal');
  t.stream.onEvent(exit({ signal: 1 }));
  assert.equal(t.stream.phase, 'exiting');
  t.stream.onEvent(status('completed', 'ended'));
  assert.deepEqual(t.closed, [129]);
});

test('an exit with no status change after it closes the terminal after the grace period', () => {
  const t = setup('agent');
  t.stream.onEvent(exit({ signal: 15 }));
  assert.deepEqual(t.closed, []);
  t.fireTimers();
  assert.deepEqual(t.closed, [143]);
});

test('the started event of another worker does not wake a paused terminal; events after close are ignored', () => {
  const t = setup();
  t.stream.onEvent(exit({ reason: 'owner-lost', signal: 9 }));
  t.stream.onEvent(started('w2'));
  assert.equal(t.stream.phase, 'paused');
  t.stream.end('the session was deleted');
  assert.equal(t.stream.phase, 'ended');
  const n = t.written.length;
  t.stream.onEvent(output('late'));
  assert.equal(t.written.length, n);
});

test('exit codes: the code, else 128 + signal', () => {
  assert.equal(exitCodeOf({ exitCode: 2 }), 2);
  assert.equal(exitCodeOf({ signal: 9 }), 137);
  assert.equal(exitCodeOf({}), undefined);
});
