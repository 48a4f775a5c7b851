import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestType } from 'vscode-jsonrpc';
import { SidecarError } from '../src/sidecar/client';
import { SetSessionTaskId } from '../src/protocol/methods';
import { applyTaskId, reusableSessions } from '../src/sessions/startChoice';
import type { Session } from '../src/protocol/types';

const session = (id: string, over: Partial<Session> = {}): Session => ({
  id, workspace: '/w', provider: 'codex', kind: 'quick', status: 'active', createdAt: '', updatedAt: '', busy: false, lastSeq: 1, workers: [],
  owner: { pid: 7 }, ...over,
});

test('reusableSessions: live quick sessions of this sidecar with the same provider, workspace and model', () => {
  const sessions = [
    session('yes1'),
    session('yes2', { status: 'created', taskId: 'T' }),
    session('otherProvider', { provider: 'claude' }),
    session('otherFolder', { workspace: '/x' }),
    session('otherModel', { model: 'gpt-5' }),
    session('worktree', { kind: 'worktree' }),
    session('suspended', { status: 'suspended', owner: undefined }),
    session('ended', { status: 'completed', owner: undefined }),
    session('orphan', { owner: undefined }),
    session('otherSidecar', { owner: { pid: 8 } }),
  ];
  assert.deepEqual(reusableSessions(sessions, { workspace: '/w', provider: 'codex' }, 7).map((s) => s.id), ['yes1', 'yes2']);
  assert.deepEqual(reusableSessions(sessions, { workspace: '/w', provider: 'codex', model: 'gpt-5' }, 7).map((s) => s.id), ['otherModel']);
  // An empty model is the default model, as in the sidecar's reuse key.
  assert.deepEqual(reusableSessions(sessions, { workspace: '/w', provider: 'codex', model: '' }, 7).map((s) => s.id), ['yes1', 'yes2']);
  assert.deepEqual(reusableSessions(sessions, { workspace: '/w', provider: 'codex' }, undefined).map((s) => s.id), ['yes1', 'yes2', 'otherSidecar']);
});

/** A client whose session/setTaskId answers as `setTaskId` says; session/get reads `db`. */
function fakeClient(setTaskId: (p: SetSessionTaskId.Params) => void, db: Record<string, Session>) {
  const calls: string[] = [];
  return {
    calls,
    async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
      calls.push(type.method);
      if (type.method === 'session/setTaskId') {
        setTaskId(params as SetSessionTaskId.Params);
        return {} as R;
      }
      if (type.method === 'session/get') return db[(params as { sessionId: string }).sessionId] as R;
      throw new SidecarError(`unexpected ${type.method}`, -32601);
    },
  };
}

test('applyTaskId: a new task id for a continued session is set with session/setTaskId and read back', async () => {
  const db: Record<string, Session> = { s: session('s', { taskId: 'OLD' }) };
  const client = fakeClient((p) => { db[p.sessionId] = { ...db[p.sessionId], taskId: p.taskId ?? undefined }; }, db);
  const r = await applyTaskId(client, session('s', { taskId: 'OLD' }), '  NEW-1 ');
  assert.equal(r.kind, 'applied');
  assert.equal(r.session.taskId, 'NEW-1');
  assert.deepEqual(client.calls, ['session/setTaskId', 'session/get']);
});

test('applyTaskId: nothing typed, or the task id it has already: no call', async () => {
  const client = fakeClient(() => assert.fail('no call expected'), {});
  assert.equal((await applyTaskId(client, session('s', { taskId: 'T' }), '')).kind, 'unchanged');
  assert.equal((await applyTaskId(client, session('s', { taskId: 'T' }), ' T ')).kind, 'unchanged');
  assert.equal((await applyTaskId(client, session('s'), undefined)).kind, 'unchanged');
  assert.deepEqual(client.calls, []);
});

test('applyTaskId: a sidecar without session/setTaskId (-32601): the user is told plainly, the session keeps its task id', async () => {
  const client = fakeClient(() => { throw new SidecarError('method not found: session/setTaskId', -32601); }, {});
  const r = await applyTaskId(client, session('0123456789abcdef', { taskId: 'OLD' }), 'NEW-2');
  assert.equal(r.kind, 'unsupported');
  assert.ok(r.kind === 'unsupported');
  assert.match(r.message, /task id NEW-2 was not applied/);
  assert.match(r.message, /it keeps task id OLD/);
  assert.match(r.message, /codex session 89abcdef/);
  assert.match(r.message, /start a new conversation/);
  assert.equal(r.session.taskId, 'OLD');
  const none = await applyTaskId(client, session('s'), 'NEW-3');
  assert.ok(none.kind === 'unsupported' && /it has no task id/.test(none.message));
});

test('applyTaskId: another error (the session ended meanwhile) says what the sidecar said', async () => {
  const client = fakeClient(() => { throw new SidecarError('session s is completed', 1004); }, {});
  const r = await applyTaskId(client, session('s'), 'NEW-4');
  assert.ok(r.kind === 'failed');
  assert.match(r.message, /session s is completed/);
});
