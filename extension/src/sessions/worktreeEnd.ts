// Ending a worktree session whose worktree has uncommitted changes, without `vscode` (unit-tested).
// The protocol has one way to end: session/end removes a clean worktree and keeps one with changes
// (`worktree.state: "kept"`, with the reason). So the choice is made here, before the end: keep the
// worktree (end as usual: the sidecar keeps it), discard the changes (reset and clean the worktree
// with git, then end: the sidecar finds it clean and removes it and its branch, unless the branch
// has commits, and records that), or cancel. Git runs here, in the extension's host: the sidecar is
// this extension's child process on the same machine, so its worktrees are local paths.
import { execFile } from 'node:child_process';
import { EndSession } from '../protocol/methods';
import { Session, WorktreeInfo, shortId } from '../protocol/types';
import type { Requester } from './resume';

export interface GitResult { code: number; stdout: string; stderr: string }
/** Runs git in a folder (the tests pass a fake). */
export type Git = (cwd: string, args: string[]) => Promise<GitResult>;

/** A git command that hangs (a lock, a prompt) must not leave the End command waiting forever. */
const gitTimeoutMs = 30_000;

export const runGit: Git = (cwd, args) => new Promise((resolve) => {
  execFile('git', args, { cwd, timeout: gitTimeoutMs, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
    const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
    resolve({ code, stdout: String(stdout), stderr: err && !stderr ? err.message : String(stderr) });
  });
});

export type EndChoice = 'keep' | 'discard' | 'cancel';

/** What the user is asked about: the session, its worktree and the changed files (`git status --porcelain` lines). */
export interface EndQuestion { session: Session; worktree: WorktreeInfo; changes: string[] }

export type EndOutcome =
  | { kind: 'cancelled' }
  /** `worktree`: what became of it (`removed`, `kept`), absent for a session without one. `message` for the user. */
  | { kind: 'ended'; session: Session; worktree?: WorktreeInfo; message?: string };

/**
 * The uncommitted and untracked changes of the worktree at `path`, as the sidecar counts them
 * (ignored files are not changes); `undefined` when git cannot tell (the folder is gone): then
 * nobody is asked, and the sidecar decides as usual.
 */
export async function uncommittedChanges(git: Git, path: string): Promise<string[] | undefined> {
  const r = await git(path, ['status', '--porcelain', '--untracked-files=all']);
  if (r.code !== 0) return undefined;
  return r.stdout.split('\n').filter((l) => l.trim().length > 0);
}

/** Runs the work after the question (git, session/end) with progress shown; the tests pass none. */
export type During = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * Ends `session` (live or suspended). A worktree session with uncommitted changes asks `ask` first;
 * a clean one, or any other session, ends at once. `during` wraps the work after the question.
 */
export async function endWithWorktree(client: Requester, git: Git, session: Session, ask: (q: EndQuestion) => Promise<EndChoice>, during: During = (work) => work()): Promise<EndOutcome> {
  const wt = session.worktree;
  const end = () => client.request(EndSession.type, { sessionId: session.id });
  if (!wt || wt.state !== 'active') return during(async () => ({ kind: 'ended', session: await end() }));
  const changes = await uncommittedChanges(git, wt.path);
  if (!changes?.length) return during(async () => ended(await end(), wt, 'keep'));
  const choice = await ask({ session, worktree: wt, changes });
  if (choice === 'cancel') return { kind: 'cancelled' };
  return during(() => finish(client, git, session, wt, choice));
}

async function finish(client: Requester, git: Git, session: Session, wt: WorktreeInfo, choice: 'keep' | 'discard'): Promise<EndOutcome> {
  const end = () => client.request(EndSession.type, { sessionId: session.id });
  if (choice === 'discard') {
    // Back to the branch's last commit, and the untracked files gone (not the ignored ones, which
    // the sidecar does not count either). Commits on the branch stay: the sidecar keeps the branch then.
    for (const args of [['reset', '--hard', '--quiet', 'HEAD'], ['clean', '-fd', '--quiet']]) {
      const r = await git(wt.path, args);
      if (r.code !== 0) {
        return ended(await end(), wt, 'discard', `could not discard the changes (git ${args[0]}: ${firstLine(r.stderr)})`);
      }
    }
  }
  return ended(await end(), wt, choice);
}

/** The outcome of the end, with a message that says where the worktree is if it is still there. */
function ended(session: Session, before: WorktreeInfo, choice: 'keep' | 'discard', problem?: string): EndOutcome {
  const wt = session.worktree ?? before;
  const label = `${session.provider} session ${shortId(session.id)}`;
  const branch = wt.branch ? ` (branch ${wt.branch})` : '';
  let message: string;
  if (wt.state === 'kept') {
    const why = problem ?? (choice === 'discard' ? 'files changed again while the agent was stopping' : undefined);
    message = `Ended the ${label}. Its worktree is kept at ${wt.path}${branch}${why ? `: ${why}` : ''}. Review or commit the changes there; remove it with: git worktree remove --force ${wt.path}`;
  } else if (wt.state === 'removed') {
    message = `Ended the ${label}${choice === 'discard' ? ', discarded its changes' : ''} and removed its worktree${wt.reason ? ` (${wt.reason})` : ''}.`;
  } else {
    message = `Ended the ${label}.`;
  }
  return { kind: 'ended', session, worktree: wt, message };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].trim();
}
