// One Pseudoterminal per worker: draws the worker's current screen (worker/screen), then streams its
// pty events from exactly that point; keystrokes go to worker/input, size changes to worker/resize,
// and the worker's exit closes the terminal with its exit code.
import * as vscode from 'vscode';
import { ErrorCodes, Methods } from '../protocol/methods';
import type { ScreenResult, Session, SessionEvent, Worker } from '../protocol/types';
import { Attachment, SidecarClient, SidecarError } from '../sidecar/client';
import { alternateScreenAfter } from './ansi';

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
  private exited = false;
  private opened = false;
  /** Whether the program is on the alternate screen (full-screen TUIs like Codex are). */
  private alternateScreen = false;

  constructor(
    readonly worker: Worker,
    private readonly client: SidecarClient,
    private readonly log: vscode.LogOutputChannel,
    private readonly onClosed: (pty: WorkerPty, byUser: boolean) => void,
  ) {}

  open(dimensions: vscode.TerminalDimensions | undefined): void {
    this.opened = true;
    void this.start(dimensions);
  }

  close(): void {
    // The user closed the terminal.
    this.dispose();
    this.onClosed(this, !this.exited);
  }

  handleInput(data: string): void {
    if (this.exited) {
      this.closeEmitter.fire();
      return;
    }
    this.client.request(Methods.workerInput, { workerId: this.worker.id, data }).catch((err: Error) => this.log.warn(`input to ${this.worker.id}: ${err.message}`));
  }

  setDimensions(d: vscode.TerminalDimensions): void {
    if (this.exited) return;
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      const cols = Math.min(1000, Math.max(2, d.columns));
      const rows = Math.min(500, Math.max(1, d.rows));
      this.client.request(Methods.workerResize, { workerId: this.worker.id, cols, rows }).catch((err: Error) => this.log.warn(`resize ${this.worker.id}: ${err.message}`));
    }, resizeDebounceMs);
  }

  /**
   * After a sidecar restart the attachment re-attached by itself; but a crashed sidecar takes its
   * processes with it. A live session whose processes no sidecar runs has no `owner`.
   */
  async checkAlive(): Promise<void> {
    if (!this.opened || this.exited) return;
    try {
      const s = await this.client.request<Session>(Methods.sessionGet, { sessionId: this.attachment?.cursor.sessionId ?? this.worker.sessionId });
      const w = s.workers.find((x) => x.id === this.worker.id);
      if (!s.owner || !w || w.status === 'exited') this.gone('the sidecar restarted and this process is no longer running');
    } catch (err) {
      this.gone(`the sidecar restarted and this process is no longer running (${(err as Error).message})`);
    }
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.resizeTimer) clearTimeout(this.resizeTimer);
    this.attachment?.dispose();
  }

  private async start(dimensions: vscode.TerminalDimensions | undefined): Promise<void> {
    let afterSeq = 0;
    try {
      const screen = await this.client.request<ScreenResult>(Methods.workerScreen, { workerId: this.worker.id });
      this.writeEmitter.fire(screen.ansi);
      this.alternateScreen = screen.alternateScreen ?? false;
      afterSeq = screen.seq;
    } catch (err) {
      if (err instanceof SidecarError && err.code === ErrorCodes.InvalidState) {
        this.gone('this process has exited');
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
        channels: ['pty'],
        onEvent: (e) => this.onEvent(e),
        onEnded: (reason) => this.gone(`the session was ${reason}`),
      });
      if (this.closed) this.attachment.dispose();
    } catch (err) {
      this.writeEmitter.fire(`\x1b[31m[agent-sidecar] ${(err as Error).message}\x1b[0m\r\n`);
    }
    if (dimensions) this.setDimensions(dimensions);
  }

  private onEvent(e: SessionEvent): void {
    if (e.workerId !== this.worker.id) return;
    if (e.type === 'output' && typeof e.data.data === 'string') {
      this.writeEmitter.fire(e.data.data);
      this.alternateScreen = alternateScreenAfter(e.data.data, this.alternateScreen);
    } else if (e.type === 'exit') {
      this.exited = true;
      const code = typeof e.data.exitCode === 'number' ? e.data.exitCode : typeof e.data.signal === 'number' ? 128 + e.data.signal : undefined;
      this.dispose();
      this.closeEmitter.fire(code);
    }
  }

  private gone(why: string): void {
    if (this.exited) return;
    this.exited = true;
    // Leave the agent's alternate screen (if it is on it) so the note is not painted over its UI.
    this.writeEmitter.fire(`\x1b[0m${this.alternateScreen ? '\x1b[?1049l' : ''}\r\n\x1b[2m[agent-sidecar] ${why}. Press any key to close.\x1b[0m\r\n`);
    this.attachment?.dispose();
  }
}
