// One Pseudoterminal per worker: draws the worker's current screen (worker/screen), then streams the
// session's events from exactly that point (WorkerStream decides what they mean); keystrokes go to
// worker/input, size changes to worker/resize. The worker's exit closes the terminal with its exit
// code, unless its session was suspended or its sidecar died: then the terminal stays with a note,
// Enter resumes the session, and the same worker continues here when it starts again.
import * as vscode from 'vscode';
import { ErrorCodes } from '../protocol/errors';
import { GetSession, GetWorkerScreen, ResizeWorker, WorkerInput } from '../protocol/methods';
import type { Worker } from '../protocol/types';
import { Attachment, SidecarClient, SidecarError } from '../sidecar/client';
import { WorkerStream, suspendNote } from './workerStream';

/** Resizes while the user drags a split are many; the last one wins. */
const resizeDebounceMs = 50;

export class WorkerPty implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private attachment: Attachment | undefined;
  private resizeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private opened = false;
  private dimensions: vscode.TerminalDimensions | undefined;
  readonly stream: WorkerStream;

  constructor(
    readonly worker: Worker,
    private readonly client: SidecarClient,
    private readonly log: vscode.LogOutputChannel,
    private readonly onClosed: (pty: WorkerPty, byUser: boolean) => void,
    /** Enter in a terminal whose session is suspended. */
    private readonly onResumeRequested: (sessionId: string) => void,
  ) {
    this.stream = new WorkerStream(worker.id, worker.kind, {
      write: (text) => this.writeEmitter.fire(text),
      close: (code) => {
        this.dispose();
        this.closeEmitter.fire(code);
      },
      restarted: () => {
        if (this.dimensions) this.setDimensions(this.dimensions);
      },
    });
  }

  /** The session this terminal follows now (it moves to the new session after a /clear). */
  get sessionId(): string {
    return this.attachment?.cursor.sessionId ?? this.worker.sessionId;
  }

  open(dimensions: vscode.TerminalDimensions | undefined): void {
    this.opened = true;
    void this.start(dimensions);
  }

  close(): void {
    // The user closed the terminal.
    const running = this.stream.phase === 'running';
    this.dispose();
    this.onClosed(this, running);
  }

  handleInput(data: string): void {
    switch (this.stream.phase) {
      case 'running':
        this.client.request(WorkerInput.type, { workerId: this.worker.id, data }).catch((err: Error) => this.log.warn(`input to ${this.worker.id}: ${err.message}`));
        return;
      case 'paused':
        if (data.includes('\r')) this.onResumeRequested(this.sessionId);
        return;
      case 'ended':
        this.dispose();
        this.closeEmitter.fire();
        return;
      default:
        return;
    }
  }

  setDimensions(d: vscode.TerminalDimensions): void {
    this.dimensions = d;
    if (!this.stream.running) return;
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      const cols = Math.min(1000, Math.max(2, d.columns));
      const rows = Math.min(500, Math.max(1, d.rows));
      this.client.request(ResizeWorker.type, { workerId: this.worker.id, cols, rows }).catch((err: Error) => this.log.warn(`resize ${this.worker.id}: ${err.message}`));
    }, resizeDebounceMs);
  }

  /**
   * After a sidecar restart the attachment re-attached by itself, and a sidecar that recovers its
   * predecessor's sessions put their exits (`owner-lost`) in the log: the stream shows them. An older
   * sidecar leaves such a session live without an `owner`: say so here.
   */
  async checkAlive(): Promise<void> {
    if (!this.opened || !this.stream.running) return;
    try {
      const s = await this.client.request(GetSession.type, { sessionId: this.sessionId });
      if ((s.status === 'active' || s.status === 'created') && !s.owner) this.stream.pause(suspendNote('owner-lost'));
    } catch (err) {
      this.stream.end(`the sidecar restarted and this process is no longer running (${(err as Error).message})`);
    }
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.stream.dispose();
    this.attachment?.dispose();
  }

  private async start(dimensions: vscode.TerminalDimensions | undefined): Promise<void> {
    let afterSeq = 0;
    try {
      const screen = await this.client.request(GetWorkerScreen.type, { workerId: this.worker.id });
      this.writeEmitter.fire(screen.ansi);
      this.stream.alternateScreen = screen.alternateScreen ?? false;
      afterSeq = screen.seq;
    } catch (err) {
      if (err instanceof SidecarError && err.code === ErrorCodes.InvalidState) {
        this.stream.end('this process has exited');
        return;
      }
      this.writeEmitter.fire(`\x1b[31m[agent-sidecar] ${(err as Error).message}\x1b[0m\r\n`);
      return;
    }
    if (this.closed) return;
    try {
      this.attachment = await this.client.attach({
        sessionId: this.worker.sessionId,
        afterSeq,
        // system: the status changes that explain an exit, and the worker starting again on resume.
        channels: ['pty', 'system'],
        onEvent: (e) => this.stream.onEvent(e),
        onEnded: (reason) => this.stream.end(`the session was ${reason}`),
      });
      if (this.closed) this.attachment.dispose();
    } catch (err) {
      this.writeEmitter.fire(`\x1b[31m[agent-sidecar] ${(err as Error).message}\x1b[0m\r\n`);
    }
    if (dimensions) this.setDimensions(dimensions);
  }
}
