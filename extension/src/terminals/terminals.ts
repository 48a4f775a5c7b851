// The open worker terminals, one per worker id, in the editor area (or the panel, by setting).
import * as vscode from 'vscode';
import { GetSession, StopWorker } from '../protocol/methods';
import type { Session, Worker } from '../protocol/types';
import type { SidecarClient } from '../sidecar/client';
import { WorkerPty } from './workerTerminal';

/** The workspace-state key of the terminals open in this window, reopened after a reload. */
const openTerminalsKey = 'agentSidecar.openTerminals';

interface OpenTerminal { sessionId: string; workerId: string }

export class TerminalManager implements vscode.Disposable {
  private readonly open = new Map<string, { terminal: vscode.Terminal; pty: WorkerPty }>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Set when the window goes: its terminals close then, and must not be forgotten for that. */
  private disposing = false;

  constructor(
    private readonly client: SidecarClient,
    private readonly state: vscode.Memento,
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
        this.remember();
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
    this.remember();
    return terminal;
  }

  /**
   * After a window reload: the terminals that were open come back, for the workers that still
   * run (the sidecar outlived the window). Each shows the worker's screen first, then its output
   * from there on, like any terminal opened on a running worker. Returns how many came back.
   */
  async restore(): Promise<number> {
    const saved = (this.state.get<OpenTerminal[]>(openTerminalsKey) ?? []).filter(({ workerId }) => !this.open.has(workerId));
    // Asked all at once (each is a round trip to the sidecar), opened in their old order.
    const found = await Promise.all(saved.map(async ({ sessionId, workerId }) => {
      try {
        const session = await this.client.request(GetSession.type, { sessionId });
        const worker = session.workers.find((w) => w.id === workerId);
        return session.status === 'active' && worker?.status === 'running' ? { session, worker } : undefined;
      } catch (err) {
        this.log.info(`not reopening the terminal of ${workerId}: ${(err as Error).message}`);
        return undefined;
      }
    }));
    let reopened = 0;
    for (const f of found) {
      if (f && !this.open.has(f.worker.id)) (this.show(f.session, f.worker, true), reopened++);
    }
    this.remember();
    return reopened;
  }

  /** The sessions the open terminals follow. */
  sessionIds(): string[] {
    return [...this.open.values()].map(({ pty }) => pty.sessionId);
  }

  dispose(): void {
    this.disposing = true;
    for (const { terminal, pty } of this.open.values()) (pty.dispose(), terminal.dispose());
    this.open.clear();
    for (const d of this.disposables) d.dispose();
  }

  private remember(): void {
    if (this.disposing) return;
    const open: OpenTerminal[] = [...this.open.values()].map(({ pty }) => ({ sessionId: pty.sessionId, workerId: pty.worker.id }));
    void this.state.update(openTerminalsKey, open);
  }

  private onClosed(pty: WorkerPty, byUser: boolean): void {
    this.open.delete(pty.worker.id);
    this.remember();
    // Closing an extra shell's terminal stops that shell, as in VS Code; the agent keeps running.
    if (byUser && pty.worker.kind === 'terminal') {
      this.client.request(StopWorker.type, { workerId: pty.worker.id }).catch((err: Error) => this.log.info(`stop ${pty.worker.id}: ${err.message}`));
    }
  }
}
