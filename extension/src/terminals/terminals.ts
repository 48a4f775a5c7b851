// The open worker terminals, one per worker id, in the editor area (or the panel, by setting).
import * as vscode from 'vscode';
import { StopWorker } from '../protocol/methods';
import type { Session, Worker } from '../protocol/types';
import type { SidecarClient } from '../sidecar/client';
import { WorkerPty } from './workerTerminal';

export class TerminalManager implements vscode.Disposable {
  private readonly open = new Map<string, { terminal: vscode.Terminal; pty: WorkerPty }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: SidecarClient,
    private readonly log: vscode.LogOutputChannel,
    /** Enter in a terminal whose session is suspended resumes it. */
    private readonly resume: (sessionId: string) => void,
  ) {
    this.disposables.push(
      client.onDidRestart(() => {
        for (const { pty } of this.open.values()) void pty.checkAlive();
      }),
      vscode.window.onDidCloseTerminal((t) => {
        for (const [id, entry] of this.open) if (entry.terminal === t) this.open.delete(id);
      }),
    );
  }

  /** Shows the worker's terminal, creating it if needed. */
  show(session: Session, worker: Worker, preserveFocus = false): vscode.Terminal {
    const existing = this.open.get(worker.id);
    if (existing) {
      existing.terminal.show(preserveFocus);
      return existing.terminal;
    }
    const pty = new WorkerPty(worker, this.client, this.log, (p, byUser) => this.onClosed(p, byUser), (id) => this.resume(id));
    const where = vscode.workspace.getConfiguration('agentSidecar').get<string>('terminal.location') === 'panel'
      ? vscode.TerminalLocation.Panel
      : { viewColumn: vscode.ViewColumn.Active, preserveFocus };
    const name = worker.kind === 'agent' ? `${session.provider}${session.taskId ? ` · ${session.taskId}` : ''}` : `${worker.name} (${session.provider})`;
    const terminal = vscode.window.createTerminal({ name, pty, location: where, iconPath: new vscode.ThemeIcon(worker.kind === 'agent' ? 'hubot' : 'terminal') });
    this.open.set(worker.id, { terminal, pty });
    terminal.show(preserveFocus);
    return terminal;
  }

  /** The sessions the open terminals follow. */
  sessionIds(): string[] {
    return [...this.open.values()].map(({ pty }) => pty.sessionId);
  }

  dispose(): void {
    for (const { terminal, pty } of this.open.values()) (pty.dispose(), terminal.dispose());
    this.open.clear();
    for (const d of this.disposables) d.dispose();
  }

  private onClosed(pty: WorkerPty, byUser: boolean): void {
    this.open.delete(pty.worker.id);
    // Closing an extra shell's terminal stops that shell, as in VS Code; the agent keeps running.
    if (byUser && pty.worker.kind === 'terminal') {
      this.client.request(StopWorker.type, { workerId: pty.worker.id }).catch((err: Error) => this.log.info(`stop ${pty.worker.id}: ${err.message}`));
    }
  }
}
