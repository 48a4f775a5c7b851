// A subscription to a session's events that outlives sidecar restarts: where it is in the stream
// (its cursor), and what it does with each event.
import type { Disposable } from 'vscode-jsonrpc/node';
import type { EventChannel, SessionEvent } from '../protocol/events';
import type { SidecarClient } from './client';

/** Where an attachment is in its stream: the last event delivered (sessions change across /clear). */
export interface Cursor { sessionId: string; seq: number }

export interface AttachOptions {
  sessionId: string;
  afterSeq?: number;
  channels?: EventChannel[];
  /** Each event this extension knows, parsed; unknown and malformed ones only move the cursor. */
  onEvent: (event: SessionEvent) => void;
  /** The session was deleted (the attachment is over). */
  onEnded?: (reason: string) => void;
}

/** A live subscription to a session's events that survives sidecar restarts. */
export class Attachment implements Disposable {
  attachId: string | undefined;
  cursor: Cursor;
  disposed = false;

  constructor(readonly client: SidecarClient, readonly options: AttachOptions) {
    this.cursor = { sessionId: options.sessionId, seq: options.afterSeq ?? 0 };
  }

  /**
   * Delivers the event at `at` unless it is at or before the cursor (a re-attach may overlap). An
   * event this extension cannot read (`undefined`: unknown or malformed) still moves the cursor, so a
   * re-attach does not ask for it again.
   */
  deliver(at: Cursor, event: SessionEvent | undefined): void {
    if (this.disposed) return;
    if (at.sessionId === this.cursor.sessionId && at.seq <= this.cursor.seq) return;
    this.cursor = at;
    if (event) this.options.onEvent(event);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.client.detach(this);
  }
}
