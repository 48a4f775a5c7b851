// Tool calls, approvals and plans in the chat state: one card per id, updated in place, placed in
// their turn before its answer, and the same after a reload as when they streamed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatItem, ChatState, HostMessage, busyLabel, initialState, reduce, summarize } from '../src/chat/reducer';
import { approvalOutcome, pendingApproval } from '../src/chat/turnItems';
import { ChatApprovalData, ChatToolData, SessionEvent, parseSessionEvent } from '../src/protocol/events';

const examples = join(__dirname, '..', '..', '..', 'tests', 'testdata', 'protocol', 'events');
/** A shared example (tests/testdata/protocol/events), its session renamed. */
function example(name: string, sessionId = 's1'): SessionEvent {
  const e = parseSessionEvent({ ...JSON.parse(readFileSync(join(examples, `${name}.json`), 'utf8')), sessionId });
  assert.ok(e);
  return e;
}

/** The turn of every chat example. */
const exampleTurn = 't01a1fe5a7c2b7d10a2f4c9e83b61d5a7';

let seq = 0;
function event(sessionId: string, type: string, data: Record<string, unknown>, channel = 'chat'): SessionEvent {
  const e = parseSessionEvent({ sessionId, seq: ++seq, ts: '', channel, type, data });
  assert.ok(e, `${channel}/${type} is a known event`);
  return e;
}
const msg = (e: SessionEvent): HostMessage => ({ type: 'event', event: e });
const run = (msgs: HostMessage[], from: ChatState = initialState) => msgs.reduce(reduce, from);
const session = { id: 's1', provider: 'codex', status: 'active', workspace: '/home/u/project' };
const start = (): ChatState => run([{ type: 'reset', session, history: [] }]);

const user = (turnId: string, text = 'q', s = 's1') => event(s, 'user', { turnId, text, source: 'chat' });
const delta = (turnId: string, text: string) => event('s1', 'delta', { turnId, text });
const answer = (turnId: string, text: string, s = 's1') => event(s, 'message', { turnId, role: 'assistant', text, source: 'transcript' });
const turnEnd = (turnId: string, s = 's1') => event(s, 'turn', { turnId, status: 'completed', durationMs: 1 });
const tool = (turnId: string, toolCallId: string, status: string, more: Partial<ChatToolData> = {}) =>
  event('s1', 'tool', { turnId, toolCallId, kind: 'execute', title: `run ${toolCallId}`, status, ...more });
const options = [{ optionId: 'yes', label: 'Yes, proceed', kind: 'allow_once' }, { optionId: 'no', label: 'No', kind: 'reject_once' }];
const approval = (turnId: string, approvalId: string, status: string, more: Partial<ChatApprovalData> = {}) =>
  event('s1', 'approval', { turnId, approvalId, title: 'Run a command?', detail: 'touch x', options, status, ...more });
const plan = (turnId: string, ...statuses: string[]) => event('s1', 'plan', { turnId, entries: statuses.map((status, i) => ({ text: `step ${i + 1}`, status })) });

/** Each item as a short label: `kind:what`. */
function labels(items: ChatItem[]): string[] {
  return items.map((i) => {
    switch (i.kind) {
      case 'message': return `${i.role}:${i.text}`;
      case 'tool': return `tool:${i.tool.toolCallId}:${i.tool.status}`;
      case 'approval': return `approval:${i.approval.approvalId}:${i.approval.status}`;
      case 'plan': return `plan:${i.turnId}:${i.entries.map((e) => e.status).join(',')}`;
      case 'divider': return 'divider';
      case 'notice': return `notice:${i.text}`;
    }
  });
}

test('a tool call is one card, updated in place by its toolCallId as it is written again', () => {
  let s = run([msg(user(exampleTurn)), msg(example('chat.tool.pending'))], start());
  assert.deepEqual(labels(s.items), ['user:q', 'tool:call_Qx2mX9v1LkP0:pending']);
  s = run([msg(example('chat.tool'))], s);
  assert.deepEqual(labels(s.items), ['user:q', 'tool:call_Qx2mX9v1LkP0:completed']);
  const card = s.items[1];
  assert.ok(card.kind === 'tool');
  assert.equal(card.tool.exitCode, 0);
  assert.match(card.tool.output ?? '', /# pass 12/);
  // Another call of the same turn is another card, after the first.
  s = run([msg(example('chat.tool.truncated'))], s);
  assert.deepEqual(labels(s.items), ['user:q', 'tool:call_Qx2mX9v1LkP0:completed', 'tool:call_8uYt2Lw:failed']);
});

test('an approval goes from pending to resolved in place, and says by whom', () => {
  let s = run([msg(user(exampleTurn)), msg(example('chat.approval'))], start());
  const pending = s.items[1];
  assert.ok(pending.kind === 'approval');
  assert.equal(pending.approval.status, 'pending');
  assert.equal(pending.approval.options.length, 3);
  s = run([msg(example('chat.approval.resolved'))], s);
  assert.equal(s.items.length, 2);
  const resolved = s.items[1];
  assert.ok(resolved.kind === 'approval');
  assert.equal(resolved.approval.status, 'allowed');
  assert.equal(approvalOutcome(resolved.approval), 'Allowed by you in the terminal: Yes, proceed');
});

test('approval outcomes in words', () => {
  const a = (status: string, resolvedBy?: string, optionId?: string): ChatApprovalData =>
    ({ turnId: 't', approvalId: 'a', title: '', detail: '', options, status, resolvedBy, optionId });
  assert.equal(approvalOutcome(a('allowed', 'chat', 'yes')), 'Allowed by you in chat: Yes, proceed');
  assert.equal(approvalOutcome(a('rejected', 'chat', 'no')), 'Rejected by you in chat: No');
  assert.equal(approvalOutcome(a('rejected', 'terminal', 'no')), 'Rejected by you in the terminal: No');
  assert.equal(approvalOutcome(a('cancelled', 'agent')), 'Cancelled');
});

test('answering from the chat disables the card until the sidecar answers; a failure brings the buttons back with a notice', () => {
  let s = run([msg(user('t1')), msg(approval('t1', 'a1', 'pending'))], start());
  const key = s.items[1].key;
  s = reduce(s, { type: 'answering', key, optionId: 'yes' });
  assert.equal(s.items[1].kind === 'approval' && s.items[1].answering, 'yes');
  // The same pending approval written again keeps the answer on its way.
  s = run([msg(approval('t1', 'a1', 'pending'))], s);
  assert.equal(s.items[1].kind === 'approval' && s.items[1].answering, 'yes');
  const failed = reduce(s, { type: 'approveFailed', sessionId: 's1', approvalId: 'a1', text: 'the prompt is no longer on screen' });
  assert.equal(failed.items[1].kind === 'approval' && failed.items[1].answering, undefined);
  assert.deepEqual(labels(failed.items).at(-1), 'notice:the prompt is no longer on screen');
  // chat/approve's result resolves the card even before its event arrives.
  const approved = reduce(s, { type: 'approved', sessionId: 's1', approval: { ...(s.items[1] as { approval: ChatApprovalData }).approval, status: 'allowed', resolvedBy: 'chat', optionId: 'yes' } });
  assert.deepEqual(labels(approved.items), ['user:q', 'approval:a1:allowed']);
  assert.equal(approved.items[1].kind === 'approval' && approved.items[1].answering, undefined);
  // Answering a resolved approval does nothing.
  assert.equal(reduce(approved, { type: 'answering', key, optionId: 'no' }), approved);
});

test('the plan is one checklist per turn, updated in place', () => {
  let s = run([msg(user('t1')), msg(plan('t1', 'in_progress', 'pending')), msg(tool('t1', 'c1', 'completed'))], start());
  s = run([msg(plan('t1', 'completed', 'in_progress'))], s);
  assert.deepEqual(labels(s.items), ['user:q', 'plan:t1:completed,in_progress', 'tool:c1:completed']);
  s = run([msg(answer('t1', 'done')), msg(turnEnd('t1')), msg(user('t2', 'q2')), msg(plan('t2', 'pending'))], s);
  assert.deepEqual(labels(s.items), ['user:q', 'plan:t1:completed,in_progress', 'tool:c1:completed', 'assistant:done', 'user:q2', 'plan:t2:pending']);
  const example1 = run([msg(user(exampleTurn)), msg(example('chat.plan'))], start()).items[1];
  assert.deepEqual(example1.kind === 'plan' && example1.entries.map((e) => e.status), ['completed', 'in_progress', 'pending']);
});

test('within a turn: items in the order they first appear, the answer last even when its text streamed in first', () => {
  const s = run([
    msg(user('t1')),
    msg(delta('t1', 'Let me run ')),
    msg(tool('t1', 'c1', 'pending')),
    msg(approval('t1', 'a1', 'pending', { toolCallId: 'c1' })),
    msg(delta('t1', 'the tests')),
    msg(approval('t1', 'a1', 'allowed', { resolvedBy: 'chat', optionId: 'yes' })),
    msg(tool('t1', 'c1', 'completed')),
    msg(tool('t1', 'c2', 'in_progress')),
    msg(answer('t1', 'All green')),
    msg(turnEnd('t1')),
    msg(user('t2', 'q2')),
    // A late update of the first turn's call stays in the first turn.
    msg(tool('t1', 'c2', 'completed')),
    msg(tool('t2', 'c3', 'completed')),
  ], start());
  assert.deepEqual(labels(s.items), [
    'user:q', 'tool:c1:completed', 'approval:a1:allowed', 'tool:c2:completed', 'assistant:All green',
    'user:q2', 'tool:c3:completed',
  ]);
});

test('a reload rebuilt from the events is the state their streaming built', () => {
  const s1 = [
    user('t1', 'first', 's1'), answer('t1', 'one', 's1'), turnEnd('t1', 's1'),
    event('s1', 'transition', { to: 's2', trigger: 'session/clear' }, 'system'),
  ];
  const s2 = [
    event('s2', 'transition', { from: 's1', trigger: 'session/clear' }, 'system'),
    user('t2', 'second', 's2'),
    { ...plan('t2', 'in_progress', 'pending'), sessionId: 's2' },
    { ...delta('t2', 'Running '), sessionId: 's2' },
    { ...tool('t2', 'c1', 'pending', { command: 'npm test' }), sessionId: 's2' },
    { ...approval('t2', 'a1', 'pending'), sessionId: 's2' },
    { ...approval('t2', 'a1', 'allowed', { resolvedBy: 'terminal', optionId: 'yes' }), sessionId: 's2' },
    { ...tool('t2', 'c1', 'completed', { command: 'npm test', output: 'ok\n', exitCode: 0 }), sessionId: 's2' },
    { ...plan('t2', 'completed', 'in_progress'), sessionId: 's2' },
    { ...tool('t2', 'c2', 'in_progress'), sessionId: 's2' },
    { ...approval('t2', 'a2', 'pending'), sessionId: 's2' },
  ] as SessionEvent[];
  const current = { ...session, id: 's2', waiting: 'approval' };
  // Streamed: the chat was open on s1, followed the /clear to s2.
  const streamed = run([{ type: 'reset', session: { ...session }, history: [] }, ...s1.map(msg), ...s2.map(msg), { type: 'session', session: current }]);
  // Reloaded: the chain's chat events from session/events (system ones are not read back).
  const chat = (es: SessionEvent[]) => es.filter((e) => e.channel === 'chat');
  const reloaded = run([{ type: 'reset', session: current, history: [{ sessionId: 's1', events: chat(s1) }, { sessionId: 's2', events: chat(s2) }], busy: true }]);
  assert.deepEqual(reloaded.items, streamed.items);
  assert.equal(reloaded.busyTurn, streamed.busyTurn);
  assert.equal(reloaded.busyTurn, 't2');
  assert.deepEqual(labels(reloaded.items), [
    'user:first', 'assistant:one', 'divider', 'user:second', 'plan:t2:completed,in_progress', 'tool:c1:completed', 'approval:a1:allowed',
    'tool:c2:in_progress', 'approval:a2:pending', 'assistant:Running ',
  ]);
  assert.equal(busyLabel(reloaded), 'Waiting for your approval');
});

test('the busy bar waits for an approval while one is pending in the running turn', () => {
  let s = run([msg(user('t1'))], start());
  assert.equal(busyLabel(s), 'Working…');
  s = run([msg(approval('t1', 'a1', 'pending'))], s);
  assert.equal(busyLabel(s), 'Waiting for your approval');
  s = run([msg(approval('t1', 'a1', 'rejected', { resolvedBy: 'chat', optionId: 'no' }))], s);
  assert.equal(busyLabel(s), 'Working…');
  // The session says it waits (session/changed) before the card is here.
  s = reduce(s, { type: 'session', session: { ...session, waiting: 'approval' } });
  assert.equal(busyLabel(s), 'Waiting for your approval');
  s = run([{ type: 'session', session }, msg(turnEnd('t1'))], s);
  assert.equal(busyLabel(s), undefined);
  // A pending approval left in an ended turn does not make an idle session wait.
  s = run([msg(approval('t1', 'a9', 'pending'))], s);
  assert.equal(busyLabel(s), undefined);
});

test('session summaries carry waiting only while busy', () => {
  const base = { id: 's', workspace: '/w', provider: 'codex', kind: 'quick', status: 'active' as const, createdAt: '', updatedAt: '', lastSeq: 1, workers: [], owner: { pid: 1 } };
  assert.equal(summarize({ ...base, busy: true, waiting: 'approval' }).waiting, 'approval');
  assert.equal(summarize({ ...base, busy: false, waiting: 'approval' }).waiting, undefined);
});

test('the pending approval among events is the latest state of each, the newest pending one', () => {
  assert.equal(pendingApproval([approval('t1', 'a1', 'pending'), approval('t1', 'a1', 'allowed')]), undefined);
  assert.equal(pendingApproval([approval('t1', 'a1', 'pending'), user('t2'), approval('t2', 'a2', 'pending')])?.approvalId, 'a2');
  assert.equal(pendingApproval([approval('t1', 'a1', 'pending'), approval('t1', 'a2', 'pending'), approval('t1', 'a2', 'cancelled')])?.approvalId, 'a1');
  assert.equal(pendingApproval([tool('t1', 'c1', 'pending')]), undefined);
});
