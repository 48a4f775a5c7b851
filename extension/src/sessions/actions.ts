// Resume, for the command, the chat panel, a terminal's Enter, and the automatic resume after a
// sidecar crash: progress where the user looks, readable errors.
import * as vscode from 'vscode';
import { ResumeSession } from '../protocol/methods';
import { Session, shortId } from '../protocol/types';
import type { SidecarClient } from '../sidecar/client';
import type { CurrentSession } from './current';
import { ResumeOutcome, crashSuspended, describeError, resumeSessions } from './resume';

const label = (s: Pick<Session, 'provider' | 'taskId' | 'id'>) => `${s.provider}${s.taskId ? ` · ${s.taskId}` : ''} session ${shortId(s.id)}`;

export class SessionActions {
  private readonly resuming = new Map<string, Promise<Session>>();

  constructor(
    private readonly client: SidecarClient,
    private readonly current: CurrentSession,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Resumes a suspended session (one request at a time per session); throws a readable error. */
  resume(sessionId: string): Promise<Session> {
    const running = this.resuming.get(sessionId);
    if (running) return running;
    const p = Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Agent Sidecar: resuming a session…' }, async () => {
      let r: Session;
      try {
        r = await this.client.request(ResumeSession.type, { sessionId });
      } catch (err) {
        throw new Error(`could not resume session ${shortId(sessionId)}: ${describeError(err)}`);
      }
      if (r.status !== 'active' && r.status !== 'created') throw new Error(`could not resume the ${label(r)}: ${r.statusReason ?? r.status}`);
      this.current.update(r);
      this.log.info(`resumed the ${label(r)}`);
      return r;
    })).finally(() => this.resuming.delete(sessionId));
    this.resuming.set(sessionId, p);
    return p;
  }

  /**
   * After the sidecar restarted from a crash: resumes the sessions the window shows (terminals, chats)
   * that the crash suspended, with window progress and one error message per session that failed.
   */
  resumeAfterCrash(sessionIds: string[]): Promise<ResumeOutcome[]> {
    return this.resumeOpen(sessionIds, crashSuspended, 'after the sidecar restarted');
  }

  /** Resumes those of `sessionIds` that `which` selects, with window progress and an error message per failure. */
  async resumeOpen(sessionIds: string[], which: (s: Session) => boolean, when: string): Promise<ResumeOutcome[]> {
    if (sessionIds.length === 0) return [];
    const outcomes = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Agent Sidecar' }, (progress) =>
      resumeSessions(this.client, sessionIds, {
        starting: (sessions) => {
          this.log.info(`resuming ${sessions.map(label).join(', ')} ${when}`);
          progress.report({ message: `resuming ${sessions.length} session${sessions.length === 1 ? '' : 's'} ${when}…` });
        },
        finished: (o, done, total) => progress.report({ message: `resumed ${done} of ${total}…` }),
      }, which),
    );
    for (const o of outcomes) {
      if (o.resumed) {
        this.current.update(o.session);
        this.log.info(`resumed the ${label(o.session)}`);
        continue;
      }
      const what = o.session ? `the ${label(o.session)}` : `session ${shortId(o.sessionId)}`;
      this.log.error(`could not resume ${what} ${when}: ${o.error}`);
      void vscode.window.showErrorMessage(`Agent Sidecar: could not resume ${what} ${when}: ${o.error}`, 'Retry', 'Show Log').then((choice) => {
        if (choice === 'Retry') this.resume(o.sessionId).catch((err: Error) => void vscode.window.showErrorMessage(`Agent Sidecar: ${err.message}`));
        else if (choice === 'Show Log') this.log.show();
      });
    }
    return outcomes;
  }
}
