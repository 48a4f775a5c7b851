// Resuming sessions, without `vscode` (unit-tested): which of the sessions the window has open a
// sidecar crash suspended (`owner-lost`), and resuming them all with progress and per-session errors.
import { RequestType } from 'vscode-jsonrpc';
import { ErrorCodes } from '../protocol/errors';
import { GetSession, ResumeSession } from '../protocol/methods';
import { Session, shortId } from '../protocol/types';

/** What resuming needs of the client (SidecarClient satisfies it; the tests pass a fake). */
export interface Requester {
  request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
}

/**
 * A session its sidecar's death interrupted: suspended with reason `owner-lost` by the sidecar that
 * recovered it, or still live without an `owner` (not recovered yet; `session/resume` recovers it).
 */
export function crashSuspended(s: Session): boolean {
  return (s.status === 'suspended' && s.statusReason === 'owner-lost') || ((s.status === 'active' || s.status === 'created') && !s.owner);
}

export type ResumeOutcome =
  | { sessionId: string; resumed: true; session: Session }
  | { sessionId: string; resumed: false; session?: Session; error: string };

export interface ResumeProgress {
  /** Called once the sessions to resume are known (before any is resumed). */
  starting?(sessions: Session[]): void;
  /** Called as each one finishes. */
  finished?(outcome: ResumeOutcome, done: number, total: number): void;
}

/**
 * Looks at each of `sessionIds` (deduplicated) and resumes those `which` selects (by default the
 * ones a crash suspended), concurrently: the sidecar runs requests for different sessions in
 * parallel. Sessions that are gone or not to be resumed are skipped; errors are per session.
 */
export async function resumeSessions(client: Requester, sessionIds: Iterable<string>, progress: ResumeProgress = {}, which: (s: Session) => boolean = crashSuspended): Promise<ResumeOutcome[]> {
  const ids = [...new Set(sessionIds)];
  const sessions = (await Promise.all(ids.map((sessionId) => client.request(GetSession.type, { sessionId }).catch(() => undefined))))
    .filter((s): s is Session => !!s && which(s));
  if (sessions.length === 0) return [];
  progress.starting?.(sessions);
  let done = 0;
  return Promise.all(sessions.map(async (s): Promise<ResumeOutcome> => {
    let outcome: ResumeOutcome;
    try {
      const r = await client.request(ResumeSession.type, { sessionId: s.id });
      outcome = r.status === 'active' || r.status === 'created'
        ? { sessionId: s.id, resumed: true, session: r }
        : { sessionId: s.id, resumed: false, session: r, error: r.statusReason ?? `the session is ${r.status}` };
    } catch (err) {
      outcome = { sessionId: s.id, resumed: false, session: s, error: describeError(err) };
    }
    progress.finished?.(outcome, ++done, sessions.length);
    return outcome;
  }));
}

/** A readable message for a failed request (the sidecar's message, with what its code means). */
export function describeError(err: unknown): string {
  const e = err as { message?: string; code?: number; data?: Record<string, unknown> };
  const message = e?.message ?? String(err);
  switch (e?.code) {
    case ErrorCodes.SessionBusy: {
      const busy = Array.isArray(e.data?.busy) ? ` (${(e.data!.busy as string[]).map((id) => shortId(id)).join(', ')})` : '';
      return `${message}${busy}: a turn is running; cancel it or wait for it to end`;
    }
    case ErrorCodes.InvalidState: {
      const owner = e.data?.owner as { pid?: number } | undefined;
      return owner?.pid ? `${message} (another sidecar, pid ${owner.pid}, runs it)` : message;
    }
    default:
      return message;
  }
}
