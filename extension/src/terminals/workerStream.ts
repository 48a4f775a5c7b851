// What a worker's terminal does with the session's events, without `vscode` (unit-tested): output is
// written; an exit closes the terminal, except when the session is being suspended (a suspend, the
// idle cleanup, a sidecar shutdown) or the worker's sidecar died (`reason: "owner-lost"`): then the
// terminal stays open with a note, and when the session resumes the same worker id starts again
// (`system/worker {action:"started"}`) and its output continues in place.
import type { PtyExitData, SessionEvent } from '../protocol/events';
import { alternateScreenAfter } from './ansi';

export interface WorkerStreamSink {
  write(text: string): void;
  /** The worker ended for good: close the terminal with this exit code. */
  close(code: number | undefined): void;
  /** The worker runs again after a resume (e.g. push the terminal's size to it). */
  restarted(): void;
}

/**
 * `running`; `exiting`: it exited and we wait for the session's status to know why; `paused`: it
 * ended because the session was suspended or its sidecar died, and starts again on resume; `ended`:
 * nothing will come (a note says why, any key closes); `closed`.
 */
export type WorkerPhase = 'running' | 'exiting' | 'paused' | 'ended' | 'closed';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * How long an exit waits for the status change that explains it. A suspend stops the agent
 * gracefully (its quit command, up to 3 s) and the shells with SIGHUP (SIGKILL after 2 s), then
 * records the status: the exits come first, the status after them.
 */
export const exitGraceMs = 8_000;

const dim = (text: string) => `\x1b[0m\r\n\x1b[2m[agent-sidecar] ${text}\x1b[0m\r\n`;

export function exitCodeOf(data: PtyExitData): number | undefined {
  if (data.exitCode !== undefined) return data.exitCode;
  if (data.signal !== undefined) return 128 + data.signal;
  return undefined;
}

/** The note for a worker that stopped because its session was suspended (`reason`: the status reason). */
export function suspendNote(reason: string | undefined): string {
  const why = reason === 'owner-lost' ? 'the sidecar restarted'
    : reason === 'idle' ? 'the session was suspended after being idle'
    : reason === 'shutdown' ? 'the sidecar shut down and suspended the session'
    : 'the session was suspended';
  return `${why}; this process ended. It starts again here when the session resumes (press Enter or run "Agent Sidecar: Resume").`;
}

export class WorkerStream {
  private phaseValue: WorkerPhase = 'running';
  private pendingCode: number | undefined;
  private timer: unknown;
  /** Whether the program is on the alternate screen (full-screen TUIs like Codex are). */
  alternateScreen = false;

  constructor(
    readonly workerId: string,
    readonly kind: 'agent' | 'terminal',
    private readonly sink: WorkerStreamSink,
    private readonly timers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    private readonly graceMs = exitGraceMs,
  ) {}

  get phase(): WorkerPhase {
    return this.phaseValue;
  }

  /** Whether the process runs (input and resizes go to it). */
  get running(): boolean {
    return this.phaseValue === 'running';
  }

  onEvent(e: SessionEvent): void {
    if (this.phaseValue === 'closed' || this.phaseValue === 'ended') return;
    if (e.channel === 'pty') {
      if (e.workerId !== this.workerId) return;
      if (e.type === 'output') {
        this.sink.write(e.data.data);
        this.alternateScreen = alternateScreenAfter(e.data.data, this.alternateScreen);
      } else if (e.type === 'exit') {
        this.onExit(e.data);
      }
    } else if (e.channel === 'system') {
      if (e.type === 'status') this.onStatus(e.data.status, e.data.reason);
      else if (e.type === 'worker' && e.data.action === 'started' && e.data.worker.id === this.workerId) this.onStarted();
    }
  }

  /** The session is live but no sidecar runs it (a sidecar without recovery died): resumable. */
  pause(note: string): void {
    if (this.phaseValue === 'closed' || this.phaseValue === 'ended' || this.phaseValue === 'paused') return;
    this.stopTimer();
    this.phaseValue = 'paused';
    this.note(note);
  }

  /** Nothing more will come (the session was deleted, the process is gone for good). */
  end(note: string): void {
    if (this.phaseValue === 'closed' || this.phaseValue === 'ended') return;
    this.stopTimer();
    this.phaseValue = 'ended';
    this.note(`${note}. Press any key to close.`);
  }

  dispose(): void {
    this.stopTimer();
    this.phaseValue = 'closed';
  }

  private onExit(d: PtyExitData): void {
    const code = exitCodeOf(d);
    if (d.reason === 'owner-lost') {
      this.pause(suspendNote('owner-lost'));
      return;
    }
    // A shell that exited by itself (`exit`, Ctrl-D): its session goes on, the terminal closes now.
    if (this.kind === 'terminal' && d.exitCode !== undefined && d.signal === undefined) {
      this.close(code);
      return;
    }
    // Stopped by a signal, or the agent exited: a status change follows if the session ends or is
    // being suspended. Wait for it (bounded) before deciding.
    this.stopTimer();
    this.phaseValue = 'exiting';
    this.pendingCode = code;
    this.timer = this.timers.setTimeout(() => this.close(this.pendingCode), this.graceMs);
  }

  private onStatus(status: string, reason: string | undefined): void {
    if (this.phaseValue !== 'exiting') return;
    if (status === 'suspended') this.pause(suspendNote(reason));
    else if (status === 'completed' || status === 'failed') this.close(this.pendingCode);
  }

  private onStarted(): void {
    if (this.phaseValue !== 'paused' && this.phaseValue !== 'exiting') return;
    this.stopTimer();
    this.phaseValue = 'running';
    this.alternateScreen = false;
    this.sink.restarted();
  }

  private note(text: string): void {
    // Leave the agent's alternate screen (if it is on it) so the note is not painted over its UI.
    this.sink.write(`${this.alternateScreen ? '\x1b[?1049l' : ''}${dim(text)}`);
    this.alternateScreen = false;
  }

  private close(code: number | undefined): void {
    if (this.phaseValue === 'closed') return;
    this.stopTimer();
    this.phaseValue = 'closed';
    this.sink.close(code);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
