// What the sidecar client is given and gives: the child process it drives, its logger, its
// options and state, and the error a request ends with.
import type { Readable, Writable } from 'node:stream';
import type { RestartPolicy } from './restartPolicy';

/** What the client needs of a child process (a ChildProcess satisfies it; tests pass a fake). */
export interface ServerProcess {
  readonly pid?: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal?: NodeJS.Signals | number): boolean;
  /** Lets this process (the extension host) exit without waiting for the sidecar. */
  unref?(): void;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** One line of the sidecar's stderr. */
  server(line: string): void;
}

export type ClientState = 'stopped' | 'starting' | 'running' | 'failed';

export interface SidecarClientOptions {
  spawn: () => ServerProcess;
  initializationOptions: () => Record<string, unknown>;
  clientInfo: { name: string; version?: string };
  logger: Logger;
  restartPolicy?: RestartPolicy;
  now?: () => number;
  /** How long stop() waits for the sidecar to exit after `exit` before killing it. */
  stopTimeoutMs?: number;
}

export class SidecarError extends Error {
  constructor(message: string, readonly code: number, readonly data?: unknown) {
    super(message);
  }
}
