import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestType } from 'vscode-jsonrpc';
import { EndChoice, EndQuestion, Git, endWithWorktree, uncommittedChanges } from '../src/sessions/worktreeEnd';
import type { Session, WorktreeInfo } from '../src/protocol/types';

const wt: WorktreeInfo = { path: '/d/worktrees/repo-89abcdef', branch: 'agent-sidecar/89abcdef', state: 'active' };
const session = (over: Partial<Session> = {}): Session => ({
  id: '0123456789abcdef', workspace: '/repo', provider: 'codex', kind: 'worktree', status: 'active', createdAt: '', updatedAt: '', busy: false, lastSeq: 1, workers: [],
  owner: { pid: 7 }, worktree: wt, ...over,
});

/**
 * A worktree as git and the sidecar see it: `dirty` lines of `git status --porcelain`, which
 * `reset`/`clean` empty; session/end removes it when clean, else keeps it, as the sidecar does.
 */
function world(dirty: string[], opts: { failReset?: boolean; dirtyAgain?: boolean } = {}) {
  let changes = [...dirty];
  const gitCalls: string[] = [];
  const calls: string[] = [];
  const git: Git = async (cwd, args) => {
    gitCalls.push(`${cwd}: git ${args.join(' ')}`);
    if (args[0] === 'status') return { code: 0, stdout: changes.map((l) => `${l}\n`).join(''), stderr: '' };
    if (args[0] === 'reset' && opts.failReset) return { code: 128, stdout: '', stderr: 'fatal: index.lock exists\nmore' };
    if (args[0] === 'clean') changes = opts.dirtyAgain ? ['?? again.txt'] : [];
    return { code: 0, stdout: '', stderr: '' };
  };
  const client = {
    async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
      calls.push(`${type.method} ${(params as { sessionId: string }).sessionId}`);
      const kept = changes.length > 0;
      return session({ status: 'completed', statusReason: 'ended', owner: undefined, worktree: { ...wt, state: kept ? 'kept' : 'removed', reason: kept ? 'it has uncommitted changes' : undefined } }) as R;
    },
  };
  return { git, client, gitCalls, calls };
}

const never = async (): Promise<EndChoice> => assert.fail('nobody should be asked');

test('uncommittedChanges: the porcelain lines; undefined when git cannot tell', async () => {
  assert.deepEqual(await uncommittedChanges(world([' M a.txt', '?? b.txt']).git, '/p'), [' M a.txt', '?? b.txt']);
  assert.deepEqual(await uncommittedChanges(world([]).git, '/p'), []);
  assert.equal(await uncommittedChanges(async () => ({ code: 128, stdout: '', stderr: 'not a git repository' }), '/p'), undefined);
});

test('a clean worktree ends without a question, and the sidecar removes it', async () => {
  const w = world([]);
  const r = await endWithWorktree(w.client, w.git, session(), never);
  assert.ok(r.kind === 'ended');
  assert.equal(r.worktree?.state, 'removed');
  assert.deepEqual(w.calls, ['session/end 0123456789abcdef']);
  assert.match(r.message ?? '', /removed its worktree/);
});

test('a session without a worktree (or one no longer active) ends at once, git untouched', async () => {
  const w = world(['?? x']);
  assert.equal((await endWithWorktree(w.client, w.git, session({ kind: 'quick', worktree: undefined }), never)).kind, 'ended');
  assert.equal((await endWithWorktree(w.client, w.git, session({ worktree: { ...wt, state: 'moved' } }), never)).kind, 'ended');
  assert.deepEqual(w.gitCalls, []);
});

test('uncommitted changes: the user is asked with the files; Cancel ends nothing', async () => {
  const w = world([' M src/a.ts', '?? notes.md']);
  let asked: EndQuestion | undefined;
  const r = await endWithWorktree(w.client, w.git, session(), async (q) => ((asked = q), 'cancel'));
  assert.equal(r.kind, 'cancelled');
  assert.deepEqual(asked?.changes, [' M src/a.ts', '?? notes.md']);
  assert.equal(asked?.worktree.path, wt.path);
  assert.deepEqual(w.calls, []);
});

test('Keep Worktree: ends; the sidecar keeps it, and the message says where and how to remove it', async () => {
  const w = world(['?? notes.md']);
  const r = await endWithWorktree(w.client, w.git, session(), async () => 'keep');
  assert.ok(r.kind === 'ended');
  assert.equal(r.worktree?.state, 'kept');
  assert.deepEqual(w.calls, ['session/end 0123456789abcdef']);
  assert.ok(!w.gitCalls.some((c) => c.includes('reset') || c.includes('clean')));
  assert.match(r.message ?? '', /kept at \/d\/worktrees\/repo-89abcdef \(branch agent-sidecar\/89abcdef\)/);
  assert.match(r.message ?? '', /git worktree remove --force/);
});

test('Discard Changes: reset and clean in the worktree, then end: the sidecar finds it clean and removes it', async () => {
  const w = world([' M src/a.ts', '?? notes.md']);
  const r = await endWithWorktree(w.client, w.git, session(), async () => 'discard');
  assert.ok(r.kind === 'ended');
  assert.equal(r.worktree?.state, 'removed');
  assert.deepEqual(w.gitCalls.slice(1), [`${wt.path}: git reset --hard --quiet HEAD`, `${wt.path}: git clean -fd --quiet`]);
  assert.deepEqual(w.calls, ['session/end 0123456789abcdef']);
  assert.match(r.message ?? '', /discarded its changes and removed its worktree/);
});

test('Discard Changes that git refuses: the session still ends, the worktree is kept, and the message says why', async () => {
  const w = world(['?? notes.md'], { failReset: true });
  const r = await endWithWorktree(w.client, w.git, session(), async () => 'discard');
  assert.ok(r.kind === 'ended');
  assert.equal(r.worktree?.state, 'kept');
  assert.match(r.message ?? '', /could not discard the changes \(git reset: fatal: index.lock exists\)/);
});

test('Discard Changes while the agent writes again: kept, and the message says so', async () => {
  const w = world(['?? notes.md'], { dirtyAgain: true });
  const r = await endWithWorktree(w.client, w.git, session(), async () => 'discard');
  assert.ok(r.kind === 'ended' && r.worktree?.state === 'kept');
  assert.match(r.message ?? '', /files changed again while the agent was stopping/);
});

test('runGit against a real repository: the changes it finds, and Discard leaves the worktree clean (ignored files stay)', async () => {
  const { mkdtempSync, writeFileSync, existsSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { runGit } = await import('../src/sessions/worktreeEnd');
  const dir = mkdtempSync(join(tmpdir(), 'wt-end-'));
  try {
    const ok = async (cwd: string, ...args: string[]) => {
      const r = await runGit(cwd, args);
      assert.equal(r.code, 0, `git ${args.join(' ')}: ${r.stderr}`);
    };
    const repo = join(dir, 'repo');
    const tree = join(dir, 'tree');
    await ok(dir, 'init', '-q', '-b', 'main', repo);
    writeFileSync(join(repo, 'README'), 'hello\n');
    writeFileSync(join(repo, '.gitignore'), 'build/\n');
    await ok(repo, 'add', '.');
    await ok(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'first');
    await ok(repo, 'worktree', 'add', '-q', '-b', 'agent-sidecar/test', tree);
    writeFileSync(join(tree, 'README'), 'changed\n');
    writeFileSync(join(tree, 'new.txt'), 'new\n');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(tree, 'build'));
    writeFileSync(join(tree, 'build', 'out.bin'), 'x');
    assert.deepEqual((await uncommittedChanges(runGit, tree))?.sort(), [' M README', '?? new.txt']);
    assert.equal(await uncommittedChanges(runGit, join(dir, 'missing')), undefined);

    const ended = session({ status: 'completed', worktree: { path: tree, state: 'removed' } });
    const client = { async request<P, R>(): Promise<R> { return ended as R; } };
    const r = await endWithWorktree(client, runGit, session({ worktree: { path: tree, branch: 'agent-sidecar/test', state: 'active' } }), async () => 'discard');
    assert.equal(r.kind, 'ended');
    assert.deepEqual(await uncommittedChanges(runGit, tree), []);
    assert.equal(existsSync(join(tree, 'new.txt')), false);
    assert.equal(existsSync(join(tree, 'build', 'out.bin')), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the progress wraps the end, not the question: nothing shows "ending…" while the user decides', async () => {
  const w = world(['?? notes.md']);
  const order: string[] = [];
  const r = await endWithWorktree(w.client, w.git, session(), async () => (order.push('asked'), 'keep'), async (work) => {
    order.push('progress');
    const result = await work();
    order.push('done');
    return result;
  });
  assert.equal(r.kind, 'ended');
  assert.deepEqual(order, ['asked', 'progress', 'done']);
  const cancelled: string[] = [];
  await endWithWorktree(w.client, w.git, session(), async () => 'cancel', async (work) => (cancelled.push('progress'), work()));
  assert.deepEqual(cancelled, []);
});
