// The Sessions view: workspace folders → conversations (a /clear chain is one row, shown as its
// newest session) → the session's workers, then the sessions before its /clears (newest first).
// Refreshed on every session/changed and session/transitioned notification. The grouping and the
// words are in conversations.ts (unit-tested).
import * as vscode from 'vscode';
import { GetSession, ListSessions } from '../protocol/methods';
import { Session, Worker, shortId } from '../protocol/types';
import type { SidecarClient } from '../sidecar/client';
import { Conversation, earlierLabel, groupConversations, kindLabel, loadEarlier, sessionDescription, sessionLabel, workerLabel, worktreeLabel } from './conversations';

/** Sessions read per workspace folder (newest first); a chain's older sessions are read when it is expanded. */
const sessionsRead = 100;

export type Node =
  | { kind: 'folder'; folder: vscode.WorkspaceFolder }
  | { kind: 'conversation'; conversation: Conversation; known: Session[] }
  | { kind: 'session'; session: Session }
  | { kind: 'worker'; session: Session; worker: Worker }
  | { kind: 'message'; text: string };

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
    switch (node.kind) {
      case 'message': return new vscode.TreeItem(node.text);
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = vscode.ThemeIcon.Folder;
        item.contextValue = 'workspace';
        item.tooltip = node.folder.uri.fsPath;
        return item;
      }
      case 'worker': return workerItem(node.session, node.worker);
      case 'session': {
        // A session before a /clear: read-only history of the conversation.
        const item = sessionItem(node.session, vscode.TreeItemCollapsibleState.None);
        item.label = `${earlierLabel(node.session)} · ${new Date(node.session.createdAt).toLocaleString()}`;
        item.iconPath = new vscode.ThemeIcon('history');
        return item;
      }
      case 'conversation': {
        const { head, earlier } = node.conversation;
        const hasChildren = head.workers.length > 0 || earlier.length > 0 || !!head.transitionedFrom;
        // A live conversation opens on its processes (and its history); an ended one stays folded.
        const state = !hasChildren ? vscode.TreeItemCollapsibleState.None : live(head) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
        const item = sessionItem(head, state);
        const clears = earlier.length || (head.transitionedFrom ? 1 : 0);
        if (clears) (item.tooltip as vscode.MarkdownString).appendMarkdown(`  \n${earlier.length > 0 ? earlier.length : 'earlier'} session(s) before /clear: expand to read them`);
        return item;
      }
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      const folders = vscode.workspace.workspaceFolders ?? [];
      if (!folders.length) return [{ kind: 'message', text: 'Open a folder to start agent sessions.' }];
      return folders.map((folder) => ({ kind: 'folder', folder }));
    }
    if (node.kind === 'conversation') {
      const { head } = node.conversation;
      const workers: Node[] = head.workers.map((worker) => ({ kind: 'worker', session: head, worker }));
      const earlier = await loadEarlier(head, node.known, (sessionId) => this.client.request(GetSession.type, { sessionId }).catch(() => undefined));
      return [...workers, ...earlier.map((session): Node => ({ kind: 'session', session }))];
    }
    if (node.kind !== 'folder') return [];
    if (this.client.state === 'failed') return [{ kind: 'message', text: 'The sidecar is not running.' }];
    try {
      const r = await this.client.request(ListSessions.type, { workspace: node.folder.uri.fsPath, limit: sessionsRead });
      if (!r.sessions.length) return [{ kind: 'message', text: 'No sessions yet.' }];
      return groupConversations(r.sessions).map((conversation) => ({ kind: 'conversation', conversation, known: r.sessions }));
    } catch (err) {
      return [{ kind: 'message', text: `Could not list sessions: ${(err as Error).message}` }];
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

const live = (s: Session) => s.status === 'active' || s.status === 'created';

/** A session's row: its label, kind, branch and state; a click shows it in the chat (an ended one read-only). */
function sessionItem(s: Session, collapsible: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const item = new vscode.TreeItem(sessionLabel(s), collapsible);
  item.id = s.id;
  const state = stateLabel(s);
  item.description = sessionDescription(s, state);
  item.iconPath = statusIcon(s);
  // A live session no sidecar runs (an older sidecar died) is resumable like a suspended one.
  // A cleared session is continued through the newest of its chain, not itself: no Continue there.
  item.contextValue = (orphaned(s) ? 'session.suspended' : s.transitionedTo ? 'session.cleared' : `session.${s.status}`) + (s.worktree ? '.worktree' : '');
  const branch = worktreeLabel(s);
  item.accessibilityInformation = { label: `${s.provider} session ${shortId(s.id)} ${state}${s.taskId ? ` task ${s.taskId}` : ''}, ${kindLabel(s)}${branch ? `, worktree ${s.worktree?.branch ?? s.worktree?.path}` : ''}` };
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${s.provider}** session \`${s.id}\` (${kindLabel(s)})\n\n`);
  md.appendMarkdown(`Status: ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}  \nCreated: ${new Date(s.createdAt).toLocaleString()}`);
  if (s.taskId) md.appendMarkdown(`  \nTask: ${s.taskId}`);
  if (s.worktree) md.appendMarkdown(`  \nWorktree: \`${s.worktree.path}\`${s.worktree.branch ? ` on branch \`${s.worktree.branch}\`` : ''} (${s.worktree.state}${s.worktree.reason ? `: ${s.worktree.reason}` : ''})`);
  if (s.transitionedFrom) md.appendMarkdown(`  \nContinues \`${shortId(s.transitionedFrom)}\` after /clear`);
  item.tooltip = md;
  item.command = { command: 'agentSidecar.showChat', title: 'Show Chat', arguments: [s] };
  return item;
}

/** A process of the session: a click shows its terminal. */
function workerItem(s: Session, w: Worker): vscode.TreeItem {
  const { label, description } = workerLabel(w, s.provider);
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  item.id = `${s.id}/${w.id}`;
  item.description = description;
  item.iconPath = new vscode.ThemeIcon(w.kind === 'agent' ? 'hubot' : 'terminal', w.status === 'running' ? undefined : new vscode.ThemeColor('disabledForeground'));
  item.contextValue = `worker.${w.status}`;
  item.tooltip = `${w.command ?? ''} ${(w.args ?? []).join(' ')}${w.cwd ? `\nin ${w.cwd}` : ''}`.trim();
  if (w.status === 'running' && live(s)) item.command = { command: 'agentSidecar.openAgentTerminal', title: 'Open Terminal', arguments: [{ kind: 'worker', session: s, worker: w }] };
  return item;
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
