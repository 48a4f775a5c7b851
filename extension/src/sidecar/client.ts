// The connection to the sidecar: spawns it, speaks JSON-RPC over its stdio (vscode-jsonrpc, LSP
// framing), restarts it after a crash under a RestartPolicy, and keeps every attachment alive across
// restarts and overflows by re-attaching from its cursor (the last event it delivered).
// No `vscode` import here: the extension wires it to the UI, and the unit tests to a fake sidecar.
import type { Readable } from 'node:stream';
import {
  CancellationToken,
  Disposable,
  Emitter,
  Event,
  MessageConnection,
  RequestType,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
} from 'vscode-jsonrpc/node';
import { ErrorCodes } from '../protocol/errors';
import { SessionEvent, parseEventEnvelope, parseSessionEvent } from '../protocol/events';
import { AttachSession, DetachSession, Initialize, Shutdown } from '../protocol/methods';
import { Exit, Initialized, LogMessage, SessionChanged, SessionDetached, SessionEventNotification, SessionTransitioned } from '../protocol/notifications';
import type { InitializeResult } from '../protocol/types';
import { CrashDecision, RestartPolicy } from './restartPolicy';
import { Attachment, AttachOptions, Cursor } from './attachment';
import { ClientState, ServerProcess, SidecarClientOptions, SidecarError } from './clientTypes';

export * from './clientTypes';
export * from './attachment';

export class SidecarClient implements Disposable {
  private connection: MessageConnection | undefined;
  private process: ServerProcess | undefined;
  private stateValue: ClientState = 'stopped';
  private fatal: string | undefined;
  /** The sidecar's own "cannot start: …" line, if it printed one. */
  private cannotStart: string | undefined;
  private readonly attachments = new Set<Attachment>();
  private readonly byAttachId = new Map<string, Attachment>();
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly policy: RestartPolicy;
  private readonly now: () => number;
  private generation = 0;

  initializeResult: InitializeResult | undefined;

  private readonly stateEmitter = new Emitter<ClientState>();
  private readonly changedEmitter = new Emitter<SessionChanged.Params>();
  private readonly transitionedEmitter = new Emitter<SessionTransitioned.Params>();
  private readonly restartedEmitter = new Emitter<InitializeResult>();
  private readonly gaveUpEmitter = new Emitter<{ reason: string }>();

  readonly onDidChangeState: Event<ClientState> = this.stateEmitter.event;
  readonly onSessionChanged: Event<SessionChanged.Params> = this.changedEmitter.event;
  readonly onSessionTransitioned: Event<SessionTransitioned.Params> = this.transitionedEmitter.event;
  /** After a crash: the new sidecar is initialized and every attachment has been re-attached. */
  readonly onDidRestart: Event<InitializeResult> = this.restartedEmitter.event;
  /** The restart policy gave up; call start() to retry. */
  readonly onDidGiveUp: Event<{ reason: string }> = this.gaveUpEmitter.event;

  constructor(private readonly options: SidecarClientOptions) {
    this.policy = options.restartPolicy ?? new RestartPolicy();
    this.now = options.now ?? Date.now;
  }

  get state(): ClientState {
    return this.stateValue;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the sidecar (or retries after the policy gave up) and resolves once it is initialized. */
  start(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed') {
      if (this.state === 'failed') this.policy.reset();
      this.stopping = false;
      this.fatal = undefined;
      this.runLaunch(false);
    }
    return this.whenRunning();
  }

  /**
   * A request (one of protocol/methods.ts), once the sidecar is running; errors become SidecarError
   * with the protocol's code.
   */
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R> {
    await this.whenReady();
    const connection = this.connection;
    if (!connection) throw new SidecarError('the sidecar is not running', ErrorCodes.InternalError);
    try {
      return await connection.sendRequest(type, params, token);
    } catch (err) {
      if (err instanceof ResponseError) throw new SidecarError(err.message, err.code, err.data);
      throw err;
    }
  }

  /** Subscribes to a session's events from `afterSeq`; re-attached from its cursor after restarts. */
  async attach(options: AttachOptions): Promise<Attachment> {
    const attachment = new Attachment(this, options);
    this.attachments.add(attachment);
    try {
      await this.sendAttach(attachment);
    } catch (err) {
      this.attachments.delete(attachment);
      attachment.disposed = true;
      throw err;
    }
    return attachment;
  }

  /** Called by Attachment.dispose. */
  detach(attachment: Attachment): void {
    this.attachments.delete(attachment);
    const id = attachment.attachId;
    if (id === undefined) return;
    this.byAttachId.delete(id);
    if (this.state === 'running' && this.connection) {
      this.connection.sendRequest(DetachSession.type, { attachId: id }).catch(() => undefined);
    }
  }

  /** Graceful stop: shutdown + exit, then kill if the sidecar does not exit in time. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const connection = this.connection;
    const proc = this.process;
    if (!proc) {
      this.setState('stopped');
      return;
    }
    const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
    try {
      if (connection && this.state === 'running') {
        await withTimeout(connection.sendRequest(Shutdown.type), this.options.stopTimeoutMs ?? 5_000);
        await connection.sendNotification(Exit.type);
      } else {
        proc.stdin.end();
      }
    } catch {
      // A sidecar that does not answer is killed below.
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), this.options.stopTimeoutMs ?? 5_000);
    await exited;
    clearTimeout(timer);
    this.setState('stopped');
  }

  /**
   * The window goes away (a reload, an extension update, a closed window): the sidecar's stdin is
   * closed without a shutdown, and nothing is killed. A sidecar with live sessions outlives the
   * window (its `lingerSeconds`), and the next window's sidecar hands its editor over to it, so
   * agents, shells and a running turn go on; one with nothing live ends by itself.
   */
  leave(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const proc = this.process;
    this.connection?.dispose();
    this.connection = undefined;
    proc?.stdin.end();
    proc?.unref?.();
    this.setState('stopped');
  }

  dispose(): void {
    this.leave();
    for (const a of [...this.attachments]) a.disposed = true;
    this.attachments.clear();
    this.stateEmitter.dispose();
    this.changedEmitter.dispose();
    this.transitionedEmitter.dispose();
    this.restartedEmitter.dispose();
    this.gaveUpEmitter.dispose();
  }

  private async whenReady(): Promise<void> {
    if (this.state === 'stopped' && !this.stopping) await this.start();
    await this.whenRunning();
  }

  /** Resolves when the sidecar is running; rejects if it stops or the restart policy gives up. */
  whenRunning(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    if (this.state !== 'starting') return Promise.reject(this.notRunning());
    return new Promise<void>((resolve, reject) => {
      const d = this.stateEmitter.event((s) => {
        if (s === 'running') (d.dispose(), resolve());
        else if (s !== 'starting') (d.dispose(), reject(this.notRunning()));
      });
    });
  }

  private notRunning(): SidecarError {
    return this.state === 'failed'
      ? new SidecarError(`the sidecar is not running${this.fatal ? ` (${this.fatal})` : ' (it crashed too often)'}; run "Agent Sidecar: Restart Sidecar" to retry`, ErrorCodes.InternalError)
      : new SidecarError('the sidecar is not running', ErrorCodes.InternalError);
  }

  private runLaunch(isRestart: boolean): void {
    this.launch(isRestart).catch((err: Error) => {
      this.options.logger.error(`the sidecar did not start: ${err.message}`);
      // Still alive but initialize failed (e.g. a bad setting): restarting would fail the same way.
      if (err instanceof ExitedEarly) return;
      // The connection closed under us: the process is exiting, and its exit handler decides.
      if (this.process && !(err instanceof ResponseError)) return;
      this.fatal = err.message;
      if (this.process) {
        this.process.kill('SIGKILL');
      } else {
        // Could not even spawn it (no such file, …): nothing to restart.
        this.setState('failed');
        this.gaveUpEmitter.fire({ reason: err.message });
      }
    });
  }

  private setState(state: ClientState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }

  private async launch(isRestart: boolean): Promise<void> {
    const generation = ++this.generation;
    this.cannotStart = undefined;
    this.setState('starting');
    this.process = undefined;
    const proc = this.options.spawn();
    this.process = proc;
    this.options.logger.info(`${isRestart ? 'restarting' : 'starting'} the sidecar (pid ${proc.pid ?? '?'})`);
    pipeLines(proc.stderr, (line) => {
      // Exit code 2 with this line: the sidecar cannot start (e.g. a data directory that is not its own); restarting would not help.
      if (line.startsWith('agent-sidecar: cannot start:')) this.cannotStart = line.slice('agent-sidecar: '.length);
      this.options.logger.server(line);
    });
    const connection = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    this.connection = connection;
    let exitedEarly: ((err: Error) => void) | undefined;
    const exitedBeforeReady = new Promise<never>((_, reject) => (exitedEarly = reject));
    exitedBeforeReady.catch(() => undefined);
    proc.on('error', (err) => {
      this.options.logger.error(`sidecar process error: ${err.message}`);
      exitedEarly?.(new ExitedEarly(err.message));
      if (generation === this.generation) this.onExit(generation, null, null, err.message);
    });
    proc.on('exit', (code, signal) => {
      exitedEarly?.(new ExitedEarly(`the sidecar exited (code ${code ?? '-'}, signal ${signal ?? '-'}) before it was initialized`));
      this.onExit(generation, code, signal);
    });
    connection.onNotification(SessionEventNotification.type, (p) => this.onEvent(p));
    connection.onNotification(SessionChanged.type, (p) => this.changedEmitter.fire(p));
    connection.onNotification(SessionTransitioned.type, (p) => this.transitionedEmitter.fire(p));
    connection.onNotification(SessionDetached.type, (p) => this.onDetached(p));
    connection.onNotification(LogMessage.type, (p) => {
      // LSP MessageType: 1 error, 2 warning, 3 info, 4 log.
      const line = `sidecar: ${p.message}`;
      if (p.type === 1) this.options.logger.error(line);
      else if (p.type === 2) this.options.logger.warn(line);
      else this.options.logger.info(line);
    });
    connection.onError(([err]) => this.options.logger.warn(`connection error: ${err.message}`));
    connection.listen();

    const result = await Promise.race([
      connection.sendRequest(Initialize.type, {
        processId: process.pid,
        clientInfo: this.options.clientInfo,
        initializationOptions: this.options.initializationOptions(),
      }),
      exitedBeforeReady,
    ]);
    exitedEarly = undefined;
    await connection.sendNotification(Initialized.type, {});
    this.initializeResult = result;
    this.options.logger.info(`sidecar ${result.serverInfo.version} ready (pid ${result.serverInfo.pid ?? proc.pid}, socket ${result.serverInfo.socket ?? '-'})`);
    this.setState('running');

    // Every attachment goes on from its cursor: nothing missing, nothing twice.
    for (const a of [...this.attachments]) {
      try {
        await this.sendAttach(a);
      } catch (err) {
        this.options.logger.warn(`could not re-attach to ${a.cursor.sessionId}: ${(err as Error).message}`);
        a.options.onEnded?.('error');
      }
    }
    if (isRestart) this.restartedEmitter.fire(result);
  }

  private async sendAttach(a: Attachment): Promise<void> {
    if (a.attachId) this.byAttachId.delete(a.attachId);
    a.attachId = undefined;
    await this.whenReadyOrStarting();
    const connection = this.connection!;
    const r = await connection.sendRequest(AttachSession.type, {
      sessionId: a.cursor.sessionId,
      afterSeq: a.cursor.seq,
      ...(a.options.channels ? { channels: a.options.channels } : {}),
    }).catch((err: unknown) => {
      if (err instanceof ResponseError) throw new SidecarError(err.message, err.code, err.data);
      throw err;
    });
    if (a.disposed) {
      connection.sendRequest(DetachSession.type, { attachId: r.attachId }).catch(() => undefined);
      return;
    }
    a.attachId = r.attachId;
    this.byAttachId.set(r.attachId, a);
  }

  /** Inside launch() the state is already `running` when attachments are re-sent; elsewhere wait. */
  private async whenReadyOrStarting(): Promise<void> {
    if (this.state !== 'running') await this.whenReady();
  }

  /** An event for an attachment: parsed here, once, so every reader gets it typed. */
  private onEvent(p: SessionEventNotification.Params): void {
    const a = this.byAttachId.get(p.attachId);
    if (!a) return;
    let at: Cursor;
    try {
      const envelope = parseEventEnvelope(p.event);
      at = { sessionId: envelope.sessionId, seq: envelope.seq };
    } catch (err) {
      this.options.logger.error(`${(err as Error).message}; the event is skipped`);
      return;
    }
    let event: SessionEvent | undefined;
    try {
      event = parseSessionEvent(p.event);
    } catch (err) {
      // A sidecar bug, not a reason to stop the stream: say it, skip the event, go on.
      this.options.logger.error(`${(err as Error).message}; the event is skipped`);
    }
    a.deliver(at, event);
  }

  private onDetached(p: SessionDetached.Params): void {
    const a = this.byAttachId.get(p.attachId);
    if (!a) return;
    this.byAttachId.delete(p.attachId);
    a.attachId = undefined;
    if (p.reason === 'overflow' || p.reason === 'error') {
      this.options.logger.info(`attachment ${p.attachId} detached (${p.reason}); re-attaching from seq ${a.cursor.seq}`);
      this.sendAttach(a).catch((err: Error) => this.options.logger.warn(`re-attach failed: ${err.message}`));
    } else {
      this.attachments.delete(a);
      a.disposed = true;
      a.options.onEnded?.(p.reason);
    }
  }

  private onExit(generation: number, code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.connection?.dispose();
    this.connection = undefined;
    this.process = undefined;
    for (const a of this.attachments) if (a.attachId) this.byAttachId.delete(a.attachId);
    if (this.stopping) {
      this.setState('stopped');
      return;
    }
    this.options.logger.error(`the sidecar stopped unexpectedly (${error ?? `code ${code ?? '-'}, signal ${signal ?? '-'}`})`);
    if (code === 2 && this.cannotStart) this.fatal = this.cannotStart;
    const decision: CrashDecision = this.fatal ? { restart: false, crashes: this.policy.recentCrashes(this.now()) + 1, windowMs: 0 } : this.policy.onCrash(this.now());
    if (!decision.restart) {
      const why = this.fatal ?? `it crashed ${decision.crashes} times in the last ${Math.round(decision.windowMs / 60_000)} minutes`;
      this.options.logger.error(`not restarting the sidecar: ${why}`);
      this.setState('failed');
      this.gaveUpEmitter.fire({ reason: why });
      return;
    }
    this.setState('starting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.runLaunch(true);
    }, decision.delayMs);
  }
}

class ExitedEarly extends Error {}

function pipeLines(stream: Readable, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl).replace(/\r$/, ''));
      buffer = buffer.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (buffer) onLine(buffer);
    buffer = '';
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e)));
  });
}
