// Approvals asked where the user may not be looking: while a session waits for an approval and no
// chat showing it is in front (the chat view hidden, or the window not focused), a notification asks
// the same question with the same options, once per approval; the answer goes through chat/approve.
// It is looked at when the session starts waiting and again when a chat or the window changes
// visibility (the user may hide the chat or leave the window while the approval waits).
import * as vscode from 'vscode';
import type { ChatApprovalData } from '../protocol/events';
import { ErrorCodes } from '../protocol/errors';
import { ApproveChat, GetSessionEvents } from '../protocol/methods';
import type { Session } from '../protocol/types';
import { SidecarClient, SidecarError } from '../sidecar/client';
import { readChatEvents } from './history';
import { pendingApproval } from './turnItems';

/**
 * How far back from the session's last event the pending approval is looked for: session/changed
 * says `waiting` right after the approval's event is written, so it is among the last few.
 */
const lookBackEvents = 200;
/** Approvals already asked about (their ids), the newest kept. */
const rememberedApprovals = 100;

export class ApprovalNotifier implements vscode.Disposable {
  private readonly asked: string[] = [];
  private readonly looking = new Set<string>();
  /** The sessions that wait for an approval, as session/changed last said. */
  private readonly waiting = new Map<string, Session>();
  private readonly subscriptions: vscode.Disposable[];

  /**
   * `inFront(sessionId)`: a chat showing that session is visible in a focused window;
   * `onDidChangeFront` fires when that may have changed.
   */
  constructor(private readonly client: SidecarClient, private readonly inFront: (sessionId: string) => boolean, onDidChangeFront: vscode.Event<void>, private readonly log: vscode.LogOutputChannel) {
    this.subscriptions = [
      client.onSessionChanged(({ session }) => {
        if (session.busy && session.waiting === 'approval') {
          this.waiting.set(session.id, session);
          void this.onWaiting(session);
        } else {
          this.waiting.delete(session.id);
        }
      }),
      onDidChangeFront(() => {
        for (const session of this.waiting.values()) void this.onWaiting(session);
      }),
      vscode.window.onDidChangeWindowState(() => {
        for (const session of this.waiting.values()) void this.onWaiting(session);
      }),
    ];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }

  private async onWaiting(session: Session): Promise<void> {
    if (this.looking.has(session.id) || this.inFront(session.id)) return;
    this.looking.add(session.id);
    let approval: ChatApprovalData | undefined;
    try {
      const read = (p: GetSessionEvents.Params) => this.client.request(GetSessionEvents.type, p);
      approval = pendingApproval(await readChatEvents(read, session.id, { after: Math.max(0, session.lastSeq - lookBackEvents), upTo: session.lastSeq }));
    } catch (err) {
      this.log.warn(`approvals: could not read session ${session.id}: ${(err as Error).message}`);
    } finally {
      this.looking.delete(session.id);
    }
    if (!approval || this.asked.includes(approval.approvalId)) return;
    this.asked.push(approval.approvalId);
    if (this.asked.length > rememberedApprovals) this.asked.shift();
    const detail = approval.detail.trim().split('\n').at(-1)?.trim();
    const message = `${session.provider}: ${approval.title}${detail ? ` ${detail}` : ''}`;
    const label = await vscode.window.showInformationMessage(message, ...approval.options.map((o) => o.label));
    const option = approval.options.find((o) => o.label === label);
    if (option) await this.answer(session.id, approval.approvalId, option.optionId);
  }

  private async answer(sessionId: string, approvalId: string, optionId: string): Promise<void> {
    try {
      await this.client.request(ApproveChat.type, { sessionId, approvalId, optionId });
    } catch (err) {
      // Answered meanwhile (in the chat or the terminal: 1003), or gone with its sidecar (1002): nothing to do.
      if (err instanceof SidecarError && (err.code === ErrorCodes.SessionBusy || err.code === ErrorCodes.WorkerNotFound)) {
        this.log.info(`approvals: ${approvalId} was no longer waiting: ${err.message}`);
        return;
      }
      void vscode.window.showErrorMessage(`Agent Sidecar: ${(err as Error).message}`);
    }
  }
}
