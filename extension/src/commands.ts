// The palette commands (category "Agent Sidecar"). Each is a thin call to one protocol method.
import * as vscode from 'vscode';
import { ErrorCodes } from './protocol/errors';
import {
  CancelChat, ClearSession, EndSession, FlushMetrics, GetSession, ListProviders, ListSessions, ResetSessions, SendChat, StartSession, StartWorker, SuspendSession,
} from './protocol/methods';
import { Session, shortId } from './protocol/types';
import { SidecarClient, SidecarError } from './sidecar/client';
import type { ChatViewProvider } from './chat/chatView';
import type { CurrentSession } from './sessions/current';
import type { SessionsTreeProvider } from './sessions/tree';
import type { TerminalManager } from './terminals/terminals';
import type { SessionActions } from './sessions/actions';
import { crashSuspended, describeError } from './sessions/resume';

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
    if (isSession(arg)) return client.request(GetSession.type, { sessionId: arg.id });
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

  async function startSession(): Promise<void> {
    const workspace = await pickWorkspace();
    if (!workspace) return;
    const providers = (await client.request(ListProviders.type, {})).providers;
    const preferred = vscode.workspace.getConfiguration('agentSidecar').get<string>('defaultProvider');
    const items = providers
      .map((p) => ({ label: p.displayName, description: p.id + (p.version ? ` · ${p.version}` : ''), detail: p.available ? undefined : `unavailable: ${p.reason ?? ''}`, provider: p }))
      .sort((a, b) => Number(b.provider.available) - Number(a.provider.available) || Number(b.provider.id === preferred) - Number(a.provider.id === preferred));
    const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Agent to start' });
    if (!picked) return;
    if (!picked.provider.available) {
      void vscode.window.showErrorMessage(`${picked.provider.displayName} is not available: ${picked.provider.reason ?? 'unknown reason'}`);
      return;
    }
    const params: StartSession.Params = { workspace, provider: picked.provider.id };
    if (picked.provider.features.includes('model')) {
      const model = await vscode.window.showInputBox({ prompt: `Model for ${picked.provider.displayName} (empty: its default)`, placeHolder: 'default model' });
      if (model === undefined) return;
      if (model.trim()) params.model = model.trim();
    }
    const taskId = await vscode.window.showInputBox({ prompt: 'Task id (optional)', placeHolder: 'e.g. JIRA-123' });
    if (taskId === undefined) return;
    if (taskId.trim()) params.taskId = taskId.trim();
    const session = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Starting ${picked.provider.displayName}…` }, () =>
      client.request(StartSession.type, params),
    );
    await current.set(session);
    if (session.status === 'failed') {
      void vscode.window.showErrorMessage(`${picked.provider.displayName} failed to start${session.statusReason ? `: ${session.statusReason}` : ''}. See its terminal.`);
    }
    const agent = session.workers.find((w) => w.kind === 'agent');
    if (agent) terminals.show(session, agent);
    if (picked.provider.features.includes('chat')) await chat.show();
    tree.refresh();
  }

  async function openTerminal(arg: unknown): Promise<void> {
    const s = await pickSession(arg, live, 'Session whose agent terminal to open');
    if (!s) return;
    const worker = s.workers.find((w) => w.kind === 'agent' && w.status === 'running') ?? s.workers.find((w) => w.status === 'running');
    if (!worker) return void vscode.window.showInformationMessage('That session has no running process.');
    terminals.show(s, worker);
    for (const w of s.workers) if (w !== worker && w.status === 'running') terminals.show(s, w, true);
  }

  const handlers: Record<string, (arg?: unknown) => Promise<unknown>> = {
    startSession,
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
    endSession: async (arg) => {
      const s = await pickSession(arg, (x) => live(x) || x.status === 'suspended', 'Session to end');
      if (!s) return;
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Agent Sidecar: ending the ${s.provider} session…` }, () =>
        client.request(EndSession.type, { sessionId: s.id }).catch((err: unknown) => { throw new Error(describeError(err)); }));
      current.update(r);
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
      const worker = await client.request(StartWorker.type, { sessionId: s.id, kind: 'terminal', name: 'shell' });
      terminals.show(s, worker);
    },
    openAgentTerminal: openTerminal,
    showChat: async (arg) => {
      if (isSession(arg)) await current.set(arg);
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

function isSession(x: unknown): x is Session {
  return typeof x === 'object' && x !== null && typeof (x as Session).id === 'string' && typeof (x as Session).provider === 'string';
}
