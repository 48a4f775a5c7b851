// The Sessions view: workspace folders → their sessions (status icon, provider, task id), refreshed
// on every session/changed and session/transitioned notification.
import * as vscode from 'vscode';
import { ListSessions } from '../protocol/methods';
import { Session, shortId } from '../protocol/types';
import type { SidecarClient } from '../sidecar/client';

/** Sessions listed per workspace folder (newest first). */
const sessionsShown = 50;

type Node = { kind: 'folder'; folder: vscode.WorkspaceFolder } | { kind: 'session'; session: Session } | { kind: 'message'; text: string };

export class SessionsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  static readonly viewId = 'agentSidecar.sessions';
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly client: SidecarClient) {
    const refresh = () => this.refresh();
    this.disposables.push(client.onSessionChanged(refresh), client.onSessionTransitioned(refresh), client.onDidChangeState(refresh), vscode.workspace.onDidChangeWorkspaceFolders(refresh));
  }

  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.emitter.fire(), 100);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'message') return new vscode.TreeItem(node.text);
    if (node.kind === 'folder') {
      const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
      item.iconPath = vscode.ThemeIcon.Folder;
      item.contextValue = 'workspace';
      item.tooltip = node.folder.uri.fsPath;
      return item;
    }
    const s = node.session;
    const item = new vscode.TreeItem(s.title ?? s.taskId ?? s.provider, vscode.TreeItemCollapsibleState.None);
    item.id = s.id;
    const state = stateLabel(s);
    item.description = [s.title || s.taskId ? s.provider : undefined, s.model, state, shortId(s.id)].filter(Boolean).join(' · ');
    item.iconPath = statusIcon(s);
    // A live session no sidecar runs (an older sidecar died) is resumable like a suspended one.
    item.contextValue = orphaned(s) ? 'session.suspended' : `session.${s.status}`;
    item.accessibilityInformation = { label: `${s.provider} session ${shortId(s.id)} ${state}${s.taskId ? ` task ${s.taskId}` : ''}` };
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${s.provider}** session \`${s.id}\`\n\n`);
    md.appendMarkdown(`Status: ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}  \nCreated: ${new Date(s.createdAt).toLocaleString()}`);
    if (s.taskId) md.appendMarkdown(`  \nTask: ${s.taskId}`);
    if (s.transitionedFrom) md.appendMarkdown(`  \nContinues \`${shortId(s.transitionedFrom)}\` after /clear`);
    item.tooltip = md;
    item.command = { command: 'agentSidecar.showChat', title: 'Show Chat', arguments: [s] };
    return item;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      const folders = vscode.workspace.workspaceFolders ?? [];
      if (!folders.length) return [{ kind: 'message', text: 'Open a folder to start agent sessions.' }];
      return folders.map((folder) => ({ kind: 'folder', folder }));
    }
    if (node.kind !== 'folder') return [];
    if (this.client.state === 'failed') return [{ kind: 'message', text: 'The sidecar is not running.' }];
    try {
      const r = await this.client.request(ListSessions.type, { workspace: node.folder.uri.fsPath, limit: sessionsShown });
      return r.sessions.length ? r.sessions.map((session) => ({ kind: 'session', session })) : [{ kind: 'message', text: 'No sessions yet.' }];
    } catch (err) {
      return [{ kind: 'message', text: `Could not list sessions: ${(err as Error).message}` }];
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** What the tree says of a session: `suspended (idle)`, `suspended (owner-lost)`, `busy`, `not running`… */
export function stateLabel(s: Session): string {
  if (orphaned(s)) return 'not running';
  if (s.busy) return 'busy';
  if (s.status === 'suspended' && s.statusReason && s.statusReason !== 'suspended') return `suspended (${s.statusReason})`;
  return s.status;
}

/** Live in the log, but no sidecar runs its processes (its sidecar crashed): resume or end it. */
export function orphaned(s: Session): boolean {
  return (s.status === 'active' || s.status === 'created') && !s.owner;
}

export function statusIcon(s: Session): vscode.ThemeIcon {
  if (orphaned(s)) return new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('problemsWarningIcon.foreground'));
  if (s.busy) return new vscode.ThemeIcon('sync~spin');
  switch (s.status) {
    case 'active': return new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('testing.iconPassed'));
    case 'created': return new vscode.ThemeIcon('loading~spin');
    case 'suspended': return new vscode.ThemeIcon('debug-pause');
    case 'completed': return new vscode.ThemeIcon('pass');
    case 'failed': return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    default: return new vscode.ThemeIcon('circle-outline');
  }
}
