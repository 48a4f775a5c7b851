// The palette commands (category "Agent Sidecar"). Each is a thin call to one protocol method.
import * as vscode from 'vscode';
import { ErrorCodes } from './protocol/errors';
import {
  CancelChat, ClearSession, FlushMetrics, GetSession, ListSessions, ResetSessions, SendChat, StartWorker, SuspendSession,
} from './protocol/methods';
import { Session, shortId } from './protocol/types';
import { SidecarClient, SidecarError } from './sidecar/client';
import type { ChatViewProvider } from './chat/chatView';
import type { CurrentSession } from './sessions/current';
import type { SessionsTreeProvider } from './sessions/tree';
import type { TerminalManager } from './terminals/terminals';
import type { SessionActions } from './sessions/actions';
import { crashSuspended, describeError } from './sessions/resume';
import { startSession } from './sessions/start';
import { EndChoice, EndQuestion, endWithWorktree, runGit } from './sessions/worktreeEnd';

export interface Services {
  client: SidecarClient;
  current: CurrentSession;
  terminals: TerminalManager;
  chat: ChatViewProvider;
  tree: SessionsTreeProvider;
  actions: SessionActions;
  log: vscode.LogOutputChannel;
}

const live = (s: Session) => s.status === 'active' || s.status === 'created';

export function registerCommands(services: Services): vscode.Disposable[] {
  const { client, current, terminals, chat, tree, actions, log } = services;

  /** The session a command acts on: the one passed (from the tree), else the current one if it fits, else a pick. */
  async function pickSession(arg: unknown, fits: (s: Session) => boolean, placeHolder: string): Promise<Session | undefined> {
    const given = sessionOf(arg);
    if (given) return client.request(GetSession.type, { sessionId: given.id });
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const lists = await Promise.all(
      (folders.length ? folders : [undefined]).map((workspace) => client.request(ListSessions.type, workspace ? { workspace, limit: 100 } : { limit: 100 })),
    );
    const candidates = lists.flatMap((l) => l.sessions).filter(fits);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`Agent Sidecar: no session to pick (${placeHolder.toLowerCase()}).`);
      return undefined;
    }
    if (candidates.length === 1) return candidates[0];
    const cur = candidates.find((s) => s.id === current.sessionId);
    const items = candidates.map((s) => ({
      label: `${s.provider}${s.taskId ? ` · ${s.taskId}` : ''}`,
      description: `${s.status}${s.busy ? ' (working)' : ''} · ${shortId(s.id)}`,
      detail: `${s.workspace} · started ${new Date(s.createdAt).toLocaleString()}`,
      session: s,
    }));
    if (cur) items.sort((a, b) => (a.session === cur ? -1 : b.session === cur ? 1 : 0));
    return (await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true }))?.session;
  }

  async function pickWorkspace(): Promise<string | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 1) return folders[0].uri.fsPath;
    if (folders.length === 0) {
      void vscode.window.showWarningMessage('Agent Sidecar: open a folder first.');
      return undefined;
    }
    return (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Workspace folder for the session' }))?.uri.fsPath;
  }

  async function openTerminal(arg: unknown): Promise<void> {
    // A process row of the Sessions view: that process's terminal.
    if (isWorkerNode(arg)) return void terminals.show(arg.session, arg.worker);
    const s = await pickSession(arg, live, 'Session whose agent terminal to open');
    if (!s) return;
    const worker = s.workers.find((w) => w.kind === 'agent' && w.status === 'running') ?? s.workers.find((w) => w.status === 'running');
    if (!worker) return void vscode.window.showInformationMessage('That session has no running process.');
    terminals.show(s, worker);
    for (const w of s.workers) if (w !== worker && w.status === 'running') terminals.show(s, w, true);
  }

  const handlers: Record<string, (arg?: unknown) => Promise<unknown>> = {
    startSession: async (arg) => {
      const workspace = isFolderNode(arg) ? arg.folder.uri.fsPath : await pickWorkspace();
      if (workspace) await startSession(services, workspace);
    },
    startSessionInWorktree: async (arg) => {
      const workspace = isFolderNode(arg) ? arg.folder.uri.fsPath : await pickWorkspace();
      if (workspace) await startSession(services, workspace, { worktree: true });
    },
    sendMessage: async (arg) => {
      const s = await pickSession(arg, (x) => live(x) && x.provider !== 'shell', 'Session to send a message to');
      if (!s) return;
      const text = await vscode.window.showInputBox({ prompt: `Message to ${s.provider}` });
      if (!text?.trim()) return;
      await current.set(s);
      await chat.show();
      const r = await client.request(SendChat.type, { sessionId: s.id, text });
      if (r.status !== 'completed') void vscode.window.showWarningMessage(`The turn ended ${r.status}${r.reason ? `: ${r.reason}` : ''}.`);
    },
    clearConversation: async (arg) => {
      const s = await pickSession(arg, (x) => live(x) && x.provider !== 'shell', 'Session to clear');
      if (!s) return;
      const r = await client.request(ClearSession.type, { sessionId: s.id });
      if (current.sessionId === s.id || !current.sessionId) await current.set(r.current);
    },
    cancelTurn: async (arg) => {
      const s = await pickSession(arg, (x) => live(x) && x.busy, 'Session whose turn to cancel');
      if (s) await client.request(CancelChat.type, { sessionId: s.id });
    },
    suspendSession: async (arg) => {
      const s = await pickSession(arg, (x) => live(x) && !!x.owner, 'Session to suspend');
      if (!s) return;
      try {
        const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Agent Sidecar: suspending the ${s.provider} session…` }, () =>
          client.request(SuspendSession.type, { sessionId: s.id }));
        current.update(r);
      } catch (err) {
        if (!(err instanceof SidecarError && err.code === ErrorCodes.SessionBusy)) throw new Error(describeError(err));
        const choice = await vscode.window.showWarningMessage(`The ${s.provider} session is running a turn: cancel it first, or wait for it to end.`, 'Cancel Turn and Suspend');
        if (choice !== 'Cancel Turn and Suspend') return;
        await client.request(CancelChat.type, { sessionId: s.id });
        current.update(await retryWhileBusy(() => client.request(SuspendSession.type, { sessionId: s.id })));
      }
    },
    resumeSession: async (arg) => {
      const s = await pickSession(arg, (x) => x.status === 'suspended' || crashSuspended(x), 'Session to resume');
      if (!s) return;
      const resumed = await actions.resume(s.id);
      if (current.sessionId !== resumed.id) await current.set(resumed);
      const agent = resumed.workers.find((w) => w.kind === 'agent' && w.status === 'running');
      // An open terminal of the agent continues by itself; this shows it (or opens it if it was closed).
      if (agent) terminals.show(resumed, agent, true);
    },
    // An ended session (its agent exited, crashed, was quit, or the session was ended) goes on
    // with its conversation: the sidecar starts the agent again with its resume arguments.
    continueSession: async (arg) => {
      const s = await pickSession(arg, (x) => (x.status === 'completed' || x.status === 'failed') && !x.transitionedTo, 'Session to continue');
      if (!s) return;
      const continued = await actions.resume(s.id);
      await current.set(continued);
      const agent = continued.workers.find((w) => w.kind === 'agent' && w.status === 'running');
      if (agent) terminals.show(continued, agent, true);
    },
    endSession: async (arg) => {
      const s = await pickSession(arg, (x) => live(x) || x.status === 'suspended', 'Session to end');
      if (!s) return;
      // A worktree with uncommitted changes asks first (keep it, discard the changes, cancel).
      const progress = <T>(work: () => Promise<T>) => Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Agent Sidecar: ending the ${s.provider} session…` }, work));
      const r = await endWithWorktree(client, runGit, s, askAboutWorktree, progress).catch((err: unknown) => { throw new Error(describeError(err)); });
      if (r.kind === 'cancelled') return;
      current.update(r.session);
      if (r.worktree?.state === 'kept') void vscode.window.showWarningMessage(r.message ?? '', 'Open Folder in New Window').then((choice) => {
        if (choice) void vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(r.worktree!.path), { forceNewWindow: true });
      });
      else if (r.worktree && r.message) void vscode.window.showInformationMessage(r.message);
    },
    resetWorkspaceSessions: async (arg) => {
      const workspace = isFolderNode(arg) ? arg.folder.uri.fsPath : await pickWorkspace();
      if (!workspace) return;
      const ok = await vscode.window.showWarningMessage(`End every live agent session in ${workspace}?`, { modal: true }, 'Reset');
      if (ok !== 'Reset') return;
      const reset = () => client.request(ResetSessions.type, { workspace });
      let r: ResetSessions.Result;
      try {
        r = await reset();
      } catch (err) {
        const busy = err instanceof SidecarError && err.code === ErrorCodes.SessionBusy && Array.isArray((err.data as { busy?: unknown })?.busy) ? (err.data as { busy: string[] }).busy : undefined;
        if (!busy) throw new Error(describeError(err));
        const choice = await vscode.window.showWarningMessage(`${busy.length} session(s) in ${workspace} are running a turn; nothing was ended.`, 'Cancel Turns and Reset');
        if (choice !== 'Cancel Turns and Reset') return;
        await Promise.all(busy.map((sessionId) => client.request(CancelChat.type, { sessionId })));
        r = await retryWhileBusy(reset);
      }
      void vscode.window.showInformationMessage(`Agent Sidecar: ended ${r.ended.length} session(s).`);
    },
    newShellTerminal: async (arg) => {
      const s = await pickSession(arg, live, 'Session to add a shell to');
      if (!s) return;
      // No name: the sidecar picks one that is free in the session (names are unique there), and the tab shows it.
      const worker = await client.request(StartWorker.type, { sessionId: s.id, kind: 'terminal' });
      terminals.show(s, worker);
    },
    openAgentTerminal: openTerminal,
    showChat: async (arg) => {
      const s = sessionOf(arg);
      // An ended session (one before a /clear, or completed) opens read-only in an editor: the chat
      // view and the status bar stay on the live session.
      if (s && !live(s) && s.status !== 'suspended') return chat.openReadOnly(s);
      if (s) await current.set(s);
      else if (!current.sessionId) {
        const s = await pickSession(undefined, (x) => x.provider !== 'shell', 'Session to chat with');
        if (s) await current.set(s);
      }
      await chat.show();
    },
    openChatInEditor: async () => chat.openInEditor(),
    flushMetrics: async () => {
      const r = await client.request(FlushMetrics.type, {});
      void vscode.window.showInformationMessage(`Agent Sidecar: sent ${r.sent} metrics record(s), ${r.pending} pending.`);
    },
    restartSidecar: async () => {
      // A graceful stop suspends the live sessions (reason `shutdown`): the open ones resume after the start.
      const open = [...terminals.sessionIds(), ...chat.sessionIds()];
      if (client.state === 'running') await client.stop();
      await client.start();
      if (vscode.workspace.getConfiguration('agentSidecar').get<boolean>('resumeAfterCrash') !== false) {
        await actions.resumeOpen(open, (s) => s.status === 'suspended' && s.statusReason === 'shutdown', 'after the restart');
      }
    },
    showLog: async () => log.show(),
    refreshSessions: async () => tree.refresh(),
  };

  return Object.entries(handlers).map(([name, handler]) =>
    vscode.commands.registerCommand(`agentSidecar.${name}`, async (arg?: unknown) => {
      try {
        await handler(arg);
      } catch (err) {
        log.error(`${name}: ${(err as Error).message}`);
        void vscode.window.showErrorMessage(`Agent Sidecar: ${(err as Error).message}`);
      }
    }),
  );
}

/** A request that answers 1003 (busy) while a cancelled turn winds down: tried again for up to 10 s. */
async function retryWhileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof SidecarError && err.code === ErrorCodes.SessionBusy) || Date.now() > until) throw new Error(describeError(err));
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** The workspace folder node of the sessions tree (its context menu passes it). */
function isFolderNode(x: unknown): x is { kind: 'folder'; folder: vscode.WorkspaceFolder } {
  return typeof x === 'object' && x !== null && (x as { kind?: string }).kind === 'folder' && !!(x as { folder?: unknown }).folder;
}

/** A process row of the Sessions view. */
function isWorkerNode(x: unknown): x is { kind: 'worker'; session: Session; worker: Session['workers'][number] } {
  return typeof x === 'object' && x !== null && (x as { kind?: string }).kind === 'worker' && isSession((x as { session?: unknown }).session);
}

/** The session an argument stands for: a session, or a row of the Sessions view (a conversation is its newest session). */
function sessionOf(x: unknown): Session | undefined {
  if (isSession(x)) return x;
  if (typeof x !== 'object' || x === null) return undefined;
  const node = x as { kind?: string; session?: unknown; conversation?: { head?: unknown } };
  if ((node.kind === 'session' || node.kind === 'worker') && isSession(node.session)) return node.session;
  if (node.kind === 'conversation' && isSession(node.conversation?.head)) return node.conversation.head;
  return undefined;
}

/** Ending a worktree session with uncommitted changes: keep the worktree, discard the changes, or cancel (modal). */
async function askAboutWorktree(q: EndQuestion): Promise<EndChoice> {
  const shown = 5;
  const files = q.changes.slice(0, shown).map((l) => l.slice(3)).join(', ') + (q.changes.length > shown ? `, and ${q.changes.length - shown} more` : '');
  const keep = 'Keep Worktree';
  const discard = 'Discard Changes';
  const choice = await vscode.window.showWarningMessage(
    `The worktree of the ${q.session.provider} session ${shortId(q.session.id)} has uncommitted changes in ${q.changes.length} file(s): ${files}.`,
    {
      modal: true,
      detail: `${q.worktree.path}${q.worktree.branch ? ` (branch ${q.worktree.branch})` : ''}\n\n${keep}: the session ends and the worktree stays for you to review, commit or remove.\n${discard}: the changes are lost and the worktree is removed (its branch stays if it has commits).`,
    },
    keep, discard,
  );
  return choice === keep ? 'keep' : choice === discard ? 'discard' : 'cancel';
}

function isSession(x: unknown): x is Session {
  return typeof x === 'object' && x !== null && typeof (x as Session).id === 'string' && typeof (x as Session).provider === 'string';
}
