import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarError } from '../src/sidecar/client';
import { crashSuspended, describeError, resumeSessions } from '../src/sessions/resume';
import type { RequestType } from 'vscode-jsonrpc';
import type { Session } from '../src/protocol/types';

const session = (id: string, over: Partial<Session> = {}): Session => ({
  id, workspace: '/w', provider: 'codex', kind: 'quick', status: 'active', createdAt: '', updatedAt: '', busy: false, lastSeq: 1, workers: [],
  owner: { pid: 1 }, ...over,
});

test('crashSuspended: owner-lost suspensions and live sessions without an owner', () => {
  assert.equal(crashSuspended(session('a', { status: 'suspended', statusReason: 'owner-lost', owner: undefined })), true);
  assert.equal(crashSuspended(session('b', { owner: undefined })), true);
  assert.equal(crashSuspended(session('c')), false);
  assert.equal(crashSuspended(session('d', { status: 'suspended', statusReason: 'suspended', owner: undefined })), false);
  assert.equal(crashSuspended(session('e', { status: 'suspended', statusReason: 'idle', owner: undefined })), false);
  assert.equal(crashSuspended(session('f', { status: 'completed', owner: undefined })), false);
});

test('resumeSessions: resumes each crash-suspended session once, skips the others, reports errors per session', async () => {
  const db: Record<string, Session> = {
    a: session('a', { status: 'suspended', statusReason: 'owner-lost', owner: undefined }),
    b: session('b', { status: 'suspended', statusReason: 'owner-lost', owner: undefined }),
    c: session('c'),
    d: session('d', { status: 'suspended', statusReason: 'owner-lost', owner: undefined }),
  };
  const calls: string[] = [];
  const client = {
    async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
      const { method } = type;
      const id = (params as { sessionId: string }).sessionId;
      calls.push(`${method} ${id}`);
      if (method === 'session/get') {
        if (!db[id]) throw new SidecarError('session not found', 1001);
        return db[id] as R;
      }
      if (id === 'b') throw new SidecarError('provider codex is unavailable', 1005);
      if (id === 'd') return session('d', { status: 'suspended', statusReason: 'resume failed: not ready' }) as R;
      return session(id, { status: 'active', statusReason: 'resumed' }) as R;
    },
  };
  const progress: string[] = [];
  const outcomes = await resumeSessions(client, ['a', 'a', 'b', 'c', 'gone', 'd'], {
    starting: (s) => progress.push(`starting ${s.map((x) => x.id).join(',')}`),
    finished: (_o, done, total) => progress.push(`${done}/${total}`),
  });
  assert.deepEqual(calls.filter((c) => c.startsWith('session/resume')).sort(), ['session/resume a', 'session/resume b', 'session/resume d']);
  assert.deepEqual(progress, ['starting a,b,d', '1/3', '2/3', '3/3']);
  const byId = Object.fromEntries(outcomes.map((o) => [o.sessionId, o]));
  assert.equal(byId.a.resumed, true);
  assert.equal(byId.b.resumed, false);
  assert.match((byId.b as { error: string }).error, /unavailable/);
  assert.match((byId.d as { error: string }).error, /resume failed: not ready/);
});

test('resumeSessions: nothing to resume, no progress', async () => {
  let started = false;
  const client = { request: async <R>() => session('x') as R };
  assert.deepEqual(await resumeSessions(client, ['x'], { starting: () => (started = true) }), []);
  assert.equal(started, false);
});

test('describeError: busy sessions and other owners are spelled out', () => {
  assert.match(describeError(new SidecarError('session busy', 1003, { busy: ['0123456789abcdef'] })), /\(89abcdef\).*turn is running/);
  assert.match(describeError(new SidecarError('owned elsewhere', 1004, { owner: { pid: 42 } })), /pid 42/);
  assert.equal(describeError(new Error('plain')), 'plain');
});
