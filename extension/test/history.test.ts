// Reading a session's chat history from session/events: paged, up to where the live attachment
// starts, unknown events skipped and malformed ones reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readChatEvents } from '../src/chat/history';
import type { GetSessionEvents } from '../src/protocol/methods';
import { TextStore } from '../src/chat/textStore';

/** A log of chat events 1..n served `pageSize` at a time, as the sidecar does. */
function log(n: number, pageSize: number, shape: (seq: number) => { type: string; data: unknown } = (seq) => ({ type: 'delta', data: { turnId: 't', text: `${seq}` } })) {
  const calls: GetSessionEvents.Params[] = [];
  const read = async (p: GetSessionEvents.Params): Promise<GetSessionEvents.Result> => {
    calls.push(p);
    const after = p.afterSeq ?? 0;
    const events = [];
    for (let seq = after + 1; seq <= n && events.length < Math.min(pageSize, p.limit ?? 1000); seq++) events.push({ sessionId: p.sessionId, seq, ts: '', channel: 'chat', ...shape(seq) });
    return { events, lastSeq: n, hasMore: (events.at(-1)?.seq ?? n) < n };
  };
  return { read, calls };
}

test('reads page after page, chat channel only, until there is no more', async () => {
  const { read, calls } = log(7, 3);
  const events = await readChatEvents(read, 's1', { upTo: 7 });
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(calls.map((c) => [c.afterSeq, c.channels]), [[0, ['chat']], [3, ['chat']], [6, ['chat']]]);
});

test('stops at upTo (the live attachment goes on from there) and starts after `after`', async () => {
  const { read, calls } = log(10, 4);
  assert.deepEqual((await readChatEvents(read, 's1', { after: 2, upTo: 6 })).map((e) => e.seq), [3, 4, 5, 6]);
  assert.equal(calls.length, 1, 'no page after upTo');
  assert.deepEqual((await readChatEvents(read, 's1', { after: 2, upTo: 7 })).map((e) => e.seq), [3, 4, 5, 6, 7]);
  assert.deepEqual(calls.map((c) => c.afterSeq), [2, 2, 6]);
  assert.deepEqual(await readChatEvents(read, 's1', { upTo: 0 }), []);
});

test('unknown events are skipped, malformed ones reported and skipped', async () => {
  const { read } = log(3, 10, (seq) => (seq === 1 ? { type: 'hologram', data: {} } : seq === 2 ? { type: 'tool', data: { turnId: 't' } } : { type: 'delta', data: { turnId: 't', text: 'x' } }));
  const malformed: string[] = [];
  const events = await readChatEvents(read, 's1', { upTo: 3 }, (m) => malformed.push(m));
  assert.deepEqual(events.map((e) => `${e.seq}:${e.type}`), ['3:delta']);
  assert.equal(malformed.length, 1);
  assert.match(malformed[0], /chat\/tool .*seq 2/);
});

test('the diff texts keep the newest ones', () => {
  const store = new TextStore(2);
  const a = store.add('a');
  const b = store.add('b');
  assert.notEqual(a, b);
  assert.equal(store.get(a), 'a');
  const c = store.add('c');
  assert.equal(store.get(a), undefined);
  assert.deepEqual([store.get(b), store.get(c)], ['b', 'c']);
});
