// Which session the chat view and the status bar show: the one last started or picked, kept in the
// workspace state across reloads, and followed across /clear transitions (old → new session).
import * as vscode from 'vscode';
import type { SidecarClient } from '../sidecar/client';
import type { Session } from '../protocol/types';

const key = 'agentSidecar.currentSession';

export class CurrentSession implements vscode.Disposable {
  private id: string | undefined;
  private session: Session | undefined;
  private readonly emitter = new vscode.EventEmitter<Session | undefined>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires with the new session when it changes, and with the same session when its state changes. */
  readonly onDidChange = this.emitter.event;

  constructor(private readonly memento: vscode.Memento, client: SidecarClient) {
    this.id = memento.get<string>(key);
    this.disposables.push(
      this.emitter,
      client.onSessionChanged(({ session }) => {
        if (session.id === this.id) this.update(session);
      }),
      client.onSessionTransitioned(({ previous, current }) => {
        if (previous.id === this.id) void this.set(current);
      }),
    );
  }

  get sessionId(): string | undefined {
    return this.id;
  }

  get value(): Session | undefined {
    return this.session;
  }

  async set(session: Session | undefined): Promise<void> {
    this.id = session?.id;
    this.session = session;
    await this.memento.update(key, this.id);
    this.emitter.fire(session);
  }

  update(session: Session): void {
    if (session.id !== this.id) return;
    this.session = session;
    this.emitter.fire(session);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
