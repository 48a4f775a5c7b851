import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatState, HostMessage, initialState, reduce, statusNote } from '../src/chat/reducer';
import { SessionEvent, parseSessionEvent } from '../src/protocol/events';

let seq = 0;
/** An event as the sidecar sends it, through the parser the client uses. */
function event(sessionId: string, channel: string, type: string, data: Record<string, unknown>): SessionEvent {
  const e = parseSessionEvent({ sessionId, seq: ++seq, ts: new Date(0).toISOString(), channel, type, data });
  assert.ok(e, `${channel}/${type} is a known event`);
  return e;
}
const ev = (sessionId: string, channel: string, type: string, data: Record<string, unknown>): HostMessage => ({ type: 'event', event: event(sessionId, channel, type, data) });
/** A session's chat history as session/events has it: a question and its answer per pair. */
const history = (sessionId: string, ...turns: [string, string?][]) => ({
  sessionId,
  events: turns.flatMap(([q, a], n) => [
    event(sessionId, 'chat', 'user', { turnId: `${sessionId}t${n}`, text: q, source: 'chat' }),
    ...(a === undefined ? [] : [
      event(sessionId, 'chat', 'message', { turnId: `${sessionId}t${n}`, role: 'assistant', text: a, source: 'transcript' }),
      event(sessionId, 'chat', 'turn', { turnId: `${sessionId}t${n}`, status: 'completed', durationMs: 1 }),
    ]),
  ]),
});
const run = (msgs: HostMessage[], from: ChatState = initialState) => msgs.reduce(reduce, from);
const session = { id: 's1', provider: 'codex', status: 'active' };

test('a turn streams deltas, then the whole message replaces them, then the turn ends', () => {
  let s = run([{ type: 'reset', session, history: [] }, ev('s1', 'chat', 'user', { turnId: 't1', text: 'hi', source: 'chat' })]);
  assert.equal(s.busyTurn, 't1');
  s = run([ev('s1', 'chat', 'delta', { turnId: 't1', text: 'Hel' }), ev('s1', 'chat', 'delta', { turnId: 't1', text: 'lo' })], s);
  const streaming = s.items[1];
  assert.equal(streaming.kind === 'message' && streaming.text, 'Hello');
  assert.equal(streaming.kind === 'message' && streaming.streaming, true);
  s = run([ev('s1', 'chat', 'message', { turnId: 't1', role: 'assistant', text: 'Hello **there**', source: 'transcript' })], s);
  assert.equal(s.items.length, 2);
  assert.deepEqual(s.items[1].kind === 'message' && [s.items[1].text, s.items[1].streaming], ['Hello **there**', false]);
  assert.equal(s.busyTurn, 't1', 'busy until chat/turn');
  s = run([ev('s1', 'chat', 'turn', { turnId: 't1', status: 'completed', durationMs: 5 })], s);
  assert.equal(s.busyTurn, undefined);
  assert.equal(s.items.length, 2, 'a completed turn adds no notice');
});

test('history on open, and events the history already had are not shown twice', () => {
  const s = run([
    { type: 'reset', session, history: [history('s1', ['q', 'a'])] },
    ev('s1', 'chat', 'user', { turnId: 's1t0', text: 'q', source: 'chat' }),
    ev('s1', 'chat', 'delta', { turnId: 's1t0', text: 'late delta' }),
    ev('s1', 'chat', 'message', { turnId: 's1t0', role: 'assistant', text: 'a', source: 'transcript' }),
  ]);
  assert.deepEqual(s.items.map((i) => (i.kind === 'message' ? `${i.role}:${i.text}` : i.kind)), ['user:q', 'assistant:a']);
});

test('a /clear draws one divider and the view follows the new session', () => {
  const s = run([
    { type: 'reset', session, history: [] },
    ev('s1', 'chat', 'user', { turnId: 't1', text: 'q', source: 'chat' }),
    ev('s1', 'chat', 'message', { turnId: 't1', role: 'assistant', text: 'a', source: 'transcript' }),
    ev('s1', 'system', 'transition', { to: 's2', trigger: 'session/clear' }),
    ev('s2', 'system', 'transition', { from: 's1', trigger: 'session/clear' }),
    ev('s1', 'system', 'transition', { to: 's2', trigger: 'session/clear' }),
  ]);
  assert.deepEqual(s.items.map((i) => i.kind), ['message', 'message', 'divider']);
  assert.equal(s.session?.id, 's2');
  assert.equal(s.session?.status, 'active');
});

test('history across earlier sessions shows a divider between them', () => {
  const s = run([{ type: 'reset', session: { ...session, id: 's2' }, history: [history('s1', ['old', 'a']), history('s2', ['new'])] }]);
  assert.deepEqual(s.items.map((i) => i.kind), ['message', 'message', 'divider', 'message']);
  assert.equal(s.busyTurn, undefined, 'a session not reported busy is not busy');
});

test('a cancelled or failed turn says so and ends busy', () => {
  let s = run([{ type: 'reset', session, history: [] }, ev('s1', 'chat', 'user', { turnId: 't1', text: 'q', source: 'chat' }), ev('s1', 'chat', 'delta', { turnId: 't1', text: 'par' })]);
  s = run([ev('s1', 'chat', 'turn', { turnId: 't1', status: 'cancelled', durationMs: 5 })], s);
  assert.equal(s.busyTurn, undefined);
  const notice = s.items.at(-1);
  assert.equal(notice?.kind === 'notice' && notice.text, 'turn cancelled');
  const partial = s.items[1];
  assert.equal(partial.kind === 'message' && partial.streaming, false);
  s = run([ev('s1', 'chat', 'user', { turnId: 't2', text: 'q2', source: 'chat' }), ev('s1', 'chat', 'turn', { turnId: 't2', status: 'failed', durationMs: 5, reason: 'agent exited' })], s);
  const failed = s.items.at(-1);
  assert.deepEqual(failed?.kind === 'notice' && [failed.level, failed.text], ['error', 'turn failed: agent exited']);
  // A turn the next sidecar's recovery ended (its sidecar died while it ran) says it plainly.
  s = run([ev('s1', 'chat', 'user', { turnId: 't3', text: 'q3', source: 'chat' }), ev('s1', 'chat', 'turn', { turnId: 't3', status: 'failed', durationMs: 5, reason: 'owner-lost' })], s);
  const lost = s.items.at(-1);
  assert.deepEqual(lost?.kind === 'notice' && [lost.level, lost.text], ['error', 'turn failed: the sidecar stopped unexpectedly while it ran']);
  assert.equal(s.busyTurn, undefined);
});

test('the session ending clears busy; errors and status changes show', () => {
  let s = run([{ type: 'reset', session, history: [] }, ev('s1', 'chat', 'user', { turnId: 't1', text: 'q', source: 'chat' })]);
  s = run([ev('s1', 'system', 'error', { message: 'agent exited (exit code 2)' }), ev('s1', 'system', 'status', { status: 'failed', previous: 'active' })], s);
  assert.equal(s.session?.status, 'failed');
  assert.equal(s.busyTurn, undefined);
  assert.equal(s.items.at(-1)?.kind, 'notice');
});

test('pty and metrics events change nothing; the draft is kept and cleared on send', () => {
  const s0 = run([{ type: 'reset', session, history: [] }]);
  assert.equal(run([ev('s1', 'pty', 'output', { data: 'x' }), ev('s1', 'metrics', 'start', { id: 'm1', kind: 'start', ts: '', sessionId: 's1', provider: 'codex', workspace: '/w', startedAt: '' })], s0), s0);
  const typed = reduce(s0, { type: 'draft', text: 'hello' });
  assert.equal(typed.draft, 'hello');
  assert.equal(reduce(typed, { type: 'sending' }).draft, '');
});

test('a live session that no sidecar runs (its sidecar crashed) is shown as not running', async () => {
  const { summarize } = await import('../src/chat/reducer');
  const base = { id: 's', workspace: '/w', provider: 'codex', kind: 'quick', createdAt: '', updatedAt: '', busy: false, lastSeq: 1, workers: [] };
  assert.equal(summarize({ ...base, status: 'active', owner: { pid: 1 } }).status, 'active');
  assert.equal(summarize({ ...base, status: 'active' }).status, 'not running');
  assert.equal(summarize({ ...base, status: 'completed' }).status, 'completed');
});

test('a session suspended by a crash, then resumed, says so once each and keeps its conversation', () => {
  const suspended = ev('s1', 'system', 'status', { status: 'suspended', reason: 'owner-lost', previous: 'active' });
  let s = run([{ type: 'reset', session, history: [history('s1', ['hi'])] }, suspended, suspended]);
  assert.equal(s.session?.status, 'suspended');
  assert.equal(s.session?.statusReason, 'owner-lost');
  assert.deepEqual(s.items.filter((i) => i.kind === 'notice').map((i) => i.kind === 'notice' && i.text), ['session suspended: the sidecar stopped unexpectedly']);
  s = run([ev('s1', 'system', 'status', { status: 'active', reason: 'resumed', previous: 'suspended' })], s);
  assert.equal(s.session?.status, 'active');
  assert.equal(s.items.at(-1)?.kind === 'notice' && s.items.at(-1)?.kind === 'notice' ? (s.items.at(-1) as { text: string }).text : '', 'session resumed');
  assert.equal(s.items.filter((i) => i.kind === 'message').length, 1);
});

test('status notes: suspend reasons, resume; other changes have none', () => {
  assert.equal(statusNote('suspended', 'idle'), 'session suspended after being idle');
  assert.equal(statusNote('suspended', 'suspended'), 'session suspended');
  assert.equal(statusNote('active', 'resumed'), 'session resumed');
  assert.equal(statusNote('completed', 'ended'), undefined);
});
