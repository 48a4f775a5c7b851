// Entry point: wires the sidecar client to the terminals, the chat view, the sessions view, the
// status bar and the commands. Everything that is not UI happens in the sidecar.
import * as vscode from 'vscode';
import { ApprovalNotifier } from './chat/approvalNotifier';
import { ChatViewProvider } from './chat/chatView';
import { DiffDocuments } from './chat/diffDocuments';
import { registerCommands } from './commands';
import { GetSession } from './protocol/methods';
import { CurrentSession } from './sessions/current';
import { SessionActions } from './sessions/actions';
import { createStatusBar } from './sessions/statusBar';
import { SessionsTreeProvider } from './sessions/tree';
import type { SidecarClient } from './sidecar/client';
import { createSidecar } from './sidecar/service';
import { TerminalManager } from './terminals/terminals';

let sidecar: SidecarClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const activated = Date.now();
  const log = vscode.window.createOutputChannel('Agent Sidecar', { log: true });
  const client = (sidecar = createSidecar(context, log));
  const current = new CurrentSession(context.workspaceState, client);
  const actions = new SessionActions(client, current, log);
  const resumeFromTerminal = (id: string) => actions.resume(id).catch((err: Error) => void vscode.window.showErrorMessage(`Agent Sidecar: ${err.message}`));
  const terminals = new TerminalManager(client, context.workspaceState, log, resumeFromTerminal);
  const diffs = new DiffDocuments();
  const chat = new ChatViewProvider({ extensionUri: context.extensionUri, client, current, log, resume: (id) => actions.resume(id), diffs });
  const tree = new SessionsTreeProvider(client);
  context.subscriptions.push(
    log, current, terminals, chat, tree,
    diffs.register(),
    new ApprovalNotifier(client, (id) => chat.inFront(id), chat.onDidChangeVisibility, log),
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chat, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.window.registerWebviewPanelSerializer(ChatViewProvider.panelType, chat),
    vscode.window.registerTreeDataProvider(SessionsTreeProvider.viewId, tree),
    createStatusBar(client, current),
    ...registerCommands({ client, current, terminals, chat, tree, actions, log }),
    // After a crash every attachment re-attached by itself; the sessions the crash suspended
    // (`owner-lost`) that this window shows start again, and their terminals and chats continue.
    client.onDidRestart(() => {
      if (vscode.workspace.getConfiguration('agentSidecar').get<boolean>('resumeAfterCrash') === false) return;
      void actions.resumeAfterCrash([...terminals.sessionIds(), ...chat.sessionIds()]);
    }),
    client.onDidChangeState((state) => {
      if (state === 'running' && current.sessionId) void refreshCurrent(client, current);
    }),
    // A reloaded window: the terminals it had open come back for the workers still running.
    onceRunning(client, () => {
      void terminals.restore().then((n) => {
        if (n > 0) log.info(`reopened ${n} terminal(s) ${Date.now() - activated} ms after activation`);
      });
    }),
  );
  client.start().catch((err: Error) => log.error(`the sidecar did not start: ${err.message}`));
}

function onceRunning(client: SidecarClient, run: () => void): vscode.Disposable {
  const d = client.onDidChangeState((state) => {
    if (state === 'running') (d.dispose(), run());
  });
  return d;
}

async function refreshCurrent(client: SidecarClient, current: CurrentSession): Promise<void> {
  try {
    current.update(await client.request(GetSession.type, { sessionId: current.sessionId }));
  } catch {
    await current.set(undefined);
  }
}

export function deactivate(): void {
  // Not a stop: the sidecar outlives the window while its sessions are live (see SidecarClient.leave).
  sidecar?.leave();
}
