import { test } from 'node:test';
import assert from 'node:assert/strict';
import { earlierLabel, groupConversations, kindLabel, loadEarlier, sessionDescription, sessionLabel, workerLabel, worktreeLabel } from '../src/sessions/conversations';
import type { Session, Worker } from '../src/protocol/types';

let clock = 0;
const session = (id: string, over: Partial<Session> = {}): Session => ({
  id, workspace: '/w', provider: 'codex', kind: 'quick', status: 'completed', createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, ++clock)).toISOString(), updatedAt: '', busy: false, lastSeq: 1, workers: [],
  ...over,
});
const worker = (over: Partial<Worker> = {}): Worker => ({ id: 'w1', sessionId: 's', kind: 'agent', name: 'codex', status: 'running', pid: 42, cols: 80, rows: 24, ...over });

/** A chain of `n` sessions joined by /clear, oldest first; the last is live. */
function chain(prefix: string, n: number): Session[] {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  return ids.map((id, i) => session(id, {
    transitionedFrom: ids[i - 1],
    transitionedTo: ids[i + 1],
    status: i === n - 1 ? 'active' : 'completed',
    statusReason: i === n - 1 ? undefined : 'clear',
    owner: i === n - 1 ? { pid: 1 } : undefined,
  }));
}

test('groupConversations: three clears are one conversation, headed by the live session, the earlier ones newest first', () => {
  const a = chain('a', 4); // a0 -> a1 -> a2 -> a3 (three clears)
  const list = [...a].reverse(); // session/list: newest first
  const groups = groupConversations(list);
  assert.equal(groups.length, 1);
  assert.equal(groups[0].head.id, 'a3');
  assert.deepEqual(groups[0].earlier.map((s) => s.id), ['a2', 'a1', 'a0']);
});

test('groupConversations: separate conversations stay apart, newest first, whatever order the list has', () => {
  const a = chain('a', 3);
  const lone = session('lone');
  const b = chain('b', 2);
  const groups = groupConversations([a[1], b[0], lone, a[0], b[1], a[2]]);
  assert.deepEqual(groups.map((g) => g.head.id), ['b1', 'lone', 'a2']);
  assert.deepEqual(groups.map((g) => g.earlier.map((s) => s.id)), [['b0'], [], ['a1', 'a0']]);
});

test('groupConversations: a session whose successor is not in the list heads its own conversation', () => {
  const gone = session('old', { transitionedTo: 'deleted' });
  const groups = groupConversations([gone]);
  assert.deepEqual(groups.map((g) => [g.head.id, g.earlier.length]), [['old', 0]]);
});

test('groupConversations: a damaged log with a cycle does not hang', () => {
  const x = session('x', { transitionedTo: 'y' });
  const y = session('y', { transitionedTo: 'x' });
  const groups = groupConversations([x, y]);
  assert.equal(groups.reduce((n, g) => n + 1 + g.earlier.length, 0), 2);
});

test('loadEarlier: the chain behind the head from the list, then read one by one past the page', async () => {
  const a = chain('a', 5);
  const known = [a[4], a[3]]; // the page ended after a3
  const read: string[] = [];
  const earlier = await loadEarlier(a[4], known, async (id) => {
    read.push(id);
    return a.find((s) => s.id === id);
  });
  assert.deepEqual(earlier.map((s) => s.id), ['a3', 'a2', 'a1', 'a0']);
  assert.deepEqual(read, ['a2', 'a1', 'a0']);
  assert.deepEqual((await loadEarlier(a[4], [], async () => undefined)).map((s) => s.id), []);
  assert.equal((await loadEarlier(a[4], a, async () => undefined, 2)).length, 2);
});

test('kind, branch and state in the row: an agent with its provider, a shell, a worktree branch', () => {
  const codex = session('0123456789abcdef', { status: 'active', taskId: 'JIRA-1', model: 'gpt-5' });
  assert.equal(sessionLabel(codex), 'JIRA-1');
  assert.equal(sessionDescription(codex, 'active'), 'agent · codex · gpt-5 · active · 89abcdef');
  assert.equal(sessionDescription(session('1111222233334444', { status: 'active' }), 'active'), 'agent · active · 33334444');
  const wt = session('aaaabbbbccccdddd', { provider: 'shell', kind: 'worktree', worktree: { path: '/d/worktrees/repo-ccccdddd', branch: 'agent-sidecar/ccccdddd', state: 'active' } });
  assert.equal(sessionLabel(wt), 'shell');
  assert.equal(sessionDescription(wt, 'active'), '⎇ agent-sidecar/ccccdddd · active · ccccdddd');
  assert.equal(kindLabel(wt), 'shell');
  assert.equal(kindLabel(codex), 'agent · codex');
  assert.equal(worktreeLabel({ worktree: { path: '/p', branch: 'b', state: 'kept', reason: 'dirty' } }), '⎇ b (kept)');
  assert.equal(worktreeLabel(codex), undefined);
});

test('workers as children: name, role and how each runs or ended', () => {
  assert.deepEqual(workerLabel(worker(), 'codex'), { label: 'codex', description: 'agent · running · pid 42' });
  assert.deepEqual(workerLabel(worker({ name: 'shell' }), 'shell'), { label: 'shell', description: 'shell · running · pid 42' });
  assert.deepEqual(workerLabel(worker({ kind: 'terminal', name: 'tests', status: 'exited', exitCode: 2, pid: undefined }), 'codex'), { label: 'tests', description: 'terminal · exited (code 2)' });
  assert.deepEqual(workerLabel(worker({ kind: 'terminal', name: '', status: 'exited', signal: 1 }), 'shell'), { label: 'terminal', description: 'terminal · exited (signal 1)' });
  assert.equal(earlierLabel(session('c', { statusReason: 'clear' })), 'cleared');
  assert.equal(earlierLabel(session('f', { status: 'failed', statusReason: 'agent exited (exit code 2)' })), 'failed (agent exited (exit code 2))');
});
