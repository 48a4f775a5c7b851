// Starting a session when one is already live, without `vscode` (unit-tested): which live sessions
// "Start Session" would continue (the sidecar's reuse key: provider, workspace, model; quick
// sessions of this sidecar), and applying a task id typed for a continued session.
import { ErrorCodes } from '../protocol/errors';
import { GetSession, SetSessionTaskId } from '../protocol/methods';
import { Session, shortId } from '../protocol/types';
import type { Requester } from './resume';
import { describeError } from './resume';

export interface StartKey {
  workspace: string;
  provider: string;
  /** Empty or absent: the provider's default model. */
  model?: string;
}

/**
 * The live sessions a plain `session/start` (reuse) would hand back for `key`: quick sessions (a
 * worktree session is never reused) with the same provider, workspace and model, running in the
 * sidecar `ownerPid` (reuse only looks at its own sessions). Newest first, as given.
 */
export function reusableSessions(sessions: readonly Session[], key: StartKey, ownerPid: number | undefined): Session[] {
  return sessions.filter((s) =>
    (s.status === 'active' || s.status === 'created')
    && s.kind !== 'worktree'
    && s.provider === key.provider
    && s.workspace === key.workspace
    && (s.model ?? '') === (key.model ?? '')
    && !!s.owner
    && (ownerPid === undefined || s.owner.pid === ownerPid));
}

export type TaskIdOutcome =
  /** Nothing to do: no task id typed, or the session has it already. */
  | { kind: 'unchanged'; session: Session }
  | { kind: 'applied'; session: Session }
  /** The sidecar does not serve session/setTaskId (-32601): the session keeps its task id. */
  | { kind: 'unsupported'; session: Session; message: string }
  | { kind: 'failed'; session: Session; message: string };

/**
 * Sets `taskId` on the continued session `session`. The message of an outcome that did not apply it
 * says why, what the session keeps, and what to do instead, for the user to read as it is.
 */
export async function applyTaskId(client: Requester, session: Session, taskId: string | undefined): Promise<TaskIdOutcome> {
  const wanted = taskId?.trim();
  if (!wanted || wanted === session.taskId) return { kind: 'unchanged', session };
  const keeps = session.taskId ? `it keeps task id ${session.taskId}` : 'it has no task id';
  const label = `${session.provider} session ${shortId(session.id)}`;
  try {
    await client.request(SetSessionTaskId.type, { sessionId: session.id, taskId: wanted });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === ErrorCodes.MethodNotFound) {
      return {
        kind: 'unsupported',
        session,
        message: `Continuing the ${label}, but task id ${wanted} was not applied: this sidecar cannot change the task id of a running session (it does not offer session/setTaskId), so ${keeps}. To record the work under ${wanted}, start a new conversation with it.`,
      };
    }
    return { kind: 'failed', session, message: `Continuing the ${label}, but task id ${wanted} was not applied (${keeps}): ${describeError(err)}` };
  }
  const updated = await client.request(GetSession.type, { sessionId: session.id }).catch(() => ({ ...session, taskId: wanted }));
  return { kind: 'applied', session: updated };
}
