// "Start Session" and "Start Session in New Worktree": the questions (agent, model, continue a live
// session or start a new conversation, task id), the session/start call with progress, and opening
// the agent's terminal and the chat. The decisions without UI are in startChoice.ts.
import * as vscode from 'vscode';
import { GetSession, ListProviders, ListSessions, StartSession } from '../protocol/methods';
import { ProviderInfo, Session, shortId } from '../protocol/types';
import type { SidecarClient } from '../sidecar/client';
import type { ChatViewProvider } from '../chat/chatView';
import type { TerminalManager } from '../terminals/terminals';
import type { CurrentSession } from './current';
import type { SessionsTreeProvider } from './tree';
import { applyTaskId, reusableSessions } from './startChoice';
import { describeError } from './resume';

export interface StartServices {
  client: SidecarClient;
  current: CurrentSession;
  terminals: TerminalManager;
  chat: ChatViewProvider;
  tree: SessionsTreeProvider;
  log: vscode.LogOutputChannel;
}

export interface StartOptions {
  /** A new git worktree of the workspace's repository for the session (`kind: "worktree"`). */
  worktree?: boolean;
}

/** The label of the "new conversation" choice (the e2e test picks it by this text). */
export const newConversationLabel = 'New conversation';

export async function startSession(services: StartServices, workspace: string, options: StartOptions = {}): Promise<void> {
  const { client } = services;
  const provider = await pickProvider(client, options.worktree ? 'Agent to start in a new worktree' : 'Agent to start');
  if (!provider) return;
  const params: StartSession.Params = { workspace, provider: provider.id };
  if (provider.features.includes('model')) {
    const model = await vscode.window.showInputBox({ prompt: `Model for ${provider.displayName} (empty: its default)`, placeHolder: 'default model' });
    if (model === undefined) return;
    if (model.trim()) params.model = model.trim();
  }

  // A worktree session is never reused; otherwise a live session with the same key would be handed
  // back by session/start: ask whether to continue it or to start a conversation of its own.
  let continued: Session | undefined;
  if (options.worktree) {
    params.kind = 'worktree';
  } else {
    const listed = await client.request(ListSessions.type, { workspace, provider: provider.id, status: ['active', 'created'], limit: 100 });
    const reusable = reusableSessions(listed.sessions, { workspace, provider: provider.id, model: params.model }, client.initializeResult?.serverInfo.pid ?? client.pid);
    if (reusable.length) {
      const choice = await askContinueOrNew(provider, reusable);
      if (!choice) return;
      if (choice === 'new') params.reuse = false;
      else continued = choice;
    }
  }

  const taskId = await vscode.window.showInputBox({
    prompt: continued ? `Task id (optional) for the continued ${provider.id} session ${shortId(continued.id)}` : 'Task id (optional)',
    placeHolder: 'e.g. JIRA-123',
    value: continued?.taskId ?? '',
  });
  if (taskId === undefined) return;
  if (continued) return continueSession(services, provider, continued, taskId, params);
  if (taskId.trim()) params.taskId = taskId.trim();
  await start(services, provider, params);
}

async function pickProvider(client: SidecarClient, placeHolder: string): Promise<ProviderInfo | undefined> {
  const providers = (await client.request(ListProviders.type, {})).providers;
  const preferred = vscode.workspace.getConfiguration('agentSidecar').get<string>('defaultProvider');
  const items = providers
    .map((p) => ({ label: p.displayName, description: p.id + (p.version ? ` · ${p.version}` : ''), detail: p.available ? undefined : `unavailable: ${p.reason ?? ''}`, provider: p }))
    .sort((a, b) => Number(b.provider.available) - Number(a.provider.available) || Number(b.provider.id === preferred) - Number(a.provider.id === preferred));
  const picked = await vscode.window.showQuickPick(items, { placeHolder });
  if (!picked) return undefined;
  if (!picked.provider.available) {
    void vscode.window.showErrorMessage(`${picked.provider.displayName} is not available: ${picked.provider.reason ?? 'unknown reason'}`);
    return undefined;
  }
  return picked.provider;
}

/** The live sessions to continue (newest first) and a new conversation; `undefined` if dismissed. */
async function askContinueOrNew(provider: ProviderInfo, reusable: Session[]): Promise<Session | 'new' | undefined> {
  type Item = vscode.QuickPickItem & { pick: Session | 'new' };
  const items: Item[] = [
    ...reusable.map((s): Item => ({
      label: `$(debug-continue) Continue ${s.title ?? s.taskId ?? `the ${provider.id} session`}`,
      description: `${s.busy ? 'working' : s.status} · ${shortId(s.id)}${s.title && s.taskId ? ` · ${s.taskId}` : ''}`,
      detail: `started ${new Date(s.createdAt).toLocaleString()}: the same agent process and conversation`,
      pick: s,
    })),
    { label: `$(add) ${newConversationLabel}`, description: `a new ${provider.displayName} process`, detail: 'Its own agent and conversation, beside the live one(s)', pick: 'new' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    placeHolder: `${provider.displayName} is already running here: continue ${reusable.length === 1 ? 'that session' : 'one of them'}, or start a new conversation?`,
  });
  return picked?.pick;
}

async function start(services: StartServices, provider: ProviderInfo, params: StartSession.Params): Promise<void> {
  const { client, log } = services;
  const title = params.kind === 'worktree' ? `Creating a worktree and starting ${provider.displayName} in it…` : `Starting ${provider.displayName}…`;
  let session: Session;
  try {
    session = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => client.request(StartSession.type, params));
  } catch (err) {
    throw new Error(`could not start ${provider.displayName}${params.kind === 'worktree' ? ' in a new worktree' : ''}: ${describeError(err)}`);
  }
  if (session.worktree) log.info(`${provider.id} session ${session.id} runs in the worktree ${session.worktree.path} (branch ${session.worktree.branch ?? '?'})`);
  await show(services, provider, session);
  if (session.status === 'failed') {
    void vscode.window.showErrorMessage(`${provider.displayName} failed to start${session.statusReason ? `: ${session.statusReason}` : ''}. See its terminal.`);
  } else if (session.worktree) {
    void vscode.window.showInformationMessage(`${provider.displayName} runs in a new worktree on branch ${session.worktree.branch ?? '?'}: ${session.worktree.path}`, 'Open Folder in New Window').then((choice) => {
      if (choice) void vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(session.worktree!.path), { forceNewWindow: true });
    });
  }
}

/** Continues a live session: the chat and its terminal show it; a task id typed for it is applied, or the user is told why not. */
async function continueSession(services: StartServices, provider: ProviderInfo, chosen: Session, taskId: string, params: StartSession.Params): Promise<void> {
  // It may have ended while the user typed the task id.
  const session = await services.client.request(GetSession.type, { sessionId: chosen.id }).catch(() => undefined);
  if (!session || !(session.status === 'active' || session.status === 'created')) {
    const startNew = 'Start New Conversation';
    const choice = await vscode.window.showWarningMessage(`The ${provider.id} session ${shortId(chosen.id)} is no longer running${session ? ` (${session.status})` : ''}.`, startNew);
    if (choice === startNew) await start(services, provider, { ...params, reuse: false, ...(taskId.trim() ? { taskId: taskId.trim() } : {}) });
    return;
  }
  const outcome = await applyTaskId(services.client, session, taskId);
  await show(services, provider, outcome.session);
  if (outcome.kind === 'applied') {
    void vscode.window.showInformationMessage(`Continuing the ${provider.id} session ${shortId(session.id)}, now under task id ${outcome.session.taskId ?? taskId.trim()}.`);
  } else if (outcome.kind === 'unsupported' || outcome.kind === 'failed') {
    services.log.warn(outcome.message);
    const startNew = 'Start New Conversation';
    const choice = await vscode.window.showWarningMessage(outcome.message, startNew);
    if (choice === startNew) await start(services, provider, { ...params, reuse: false, taskId: taskId.trim() });
  }
}

async function show(services: StartServices, provider: ProviderInfo, session: Session): Promise<void> {
  await services.current.set(session);
  const agent = session.workers.find((w) => w.kind === 'agent');
  if (agent) services.terminals.show(session, agent);
  if (provider.features.includes('chat')) await services.chat.show();
  services.tree.refresh();
}
