// A sidecar stand-in for the client tests: a fake child process whose stdio is a vscode-jsonrpc
// server connection, with scripted handlers.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { MessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import type { ServerProcess } from '../src/sidecar/client';

let nextPid = 1000;

export class FakeSidecar extends EventEmitter implements ServerProcess {
  readonly pid = ++nextPid;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly connection: MessageConnection;
  readonly requests: { method: string; params: any }[] = [];
  private exited = false;

  constructor(handlers: Record<string, (params: any, fake: FakeSidecar) => unknown> = {}) {
    super();
    this.connection = createMessageConnection(new StreamMessageReader(this.stdin), new StreamMessageWriter(this.stdout));
    this.connection.onRequest((method, params: any) => {
      this.requests.push({ method, params });
      const h = handlers[method] ?? defaults[method];
      if (!h) throw new ResponseError(-32601, `method not found: ${method}`);
      return h(params, this);
    });
    this.connection.onNotification(() => undefined);
    this.connection.listen();
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    this.die(null, typeof signal === 'string' ? signal : 'SIGKILL');
    return true;
  }

  /** The process dies (crash): streams end, then `exit`. */
  die(code: number | null = 137, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.connection.dispose();
    this.stdout.end();
    this.stderr.end();
    setImmediate(() => this.emit('exit', code, signal));
  }

  event(attachId: string, sessionId: string, seq: number, type = 'output', channel = 'pty', data: Record<string, unknown> = { data: `e${seq}` }): Promise<void> {
    return this.connection.sendNotification('session/event', { attachId, event: { sessionId, seq, ts: '', channel, type, data } });
  }

  attaches(): any[] {
    return this.requests.filter((r) => r.method === 'session/attach').map((r) => r.params);
  }
}

let attachCounter = 0;
const defaults: Record<string, (params: any, fake: FakeSidecar) => unknown> = {
  initialize: (_p, fake) => ({ protocolVersion: '1', serverInfo: { name: 'fake', version: '0', pid: fake.pid }, capabilities: { methods: [], channels: [] }, providers: [] }),
  shutdown: () => null,
  'session/attach': () => ({ attachId: `a${++attachCounter}`, lastSeq: 0 }),
  'session/detach': () => ({}),
};

export function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error('timed out waiting for a condition'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}
