// The chat webview view: loads the current session's conversation (its chat events, and those of
// the sessions before each /clear), then streams its chat and system events to the webview.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ErrorCodes } from '../protocol/errors';
import { ApproveChat, CancelChat, ClearSession, GetSession, GetSessionEvents, SendChat } from '../protocol/methods';
import { Session, shortId } from '../protocol/types';
import { Attachment, SidecarClient, SidecarError } from '../sidecar/client';
import type { CurrentSession } from '../sessions/current';
import type { DiffDocuments } from './diffDocuments';
import { readChatEvents } from './history';
import { HostMessage, SessionHistory, WebviewMessage, summarize } from './reducer';

/** How many sessions before the current one (across /clear) show their history. */
const previousSessionsShown = 3;

interface Deps {
  extensionUri: vscode.Uri;
  client: SidecarClient;
  current: CurrentSession;
  log: vscode.LogOutputChannel;
  /** Resumes a suspended session (throws a readable error if it cannot). */
  resume: (sessionId: string) => Promise<Session>;
  diffs: DiffDocuments;
}

/** The chat view in the side bar (movable to the panel), plus any number of chat editors. */
export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer, vscode.Disposable {
  static readonly viewId = 'agentSidecar.chat';
  static readonly panelType = 'agentSidecar.chatEditor';
  /** A read-only chat of one ended session (openReadOnly). */
  static readonly readerType = 'agentSidecar.chatReader';
  private readonly readers = new Map<string, vscode.WebviewPanel>();
  private readonly controllers = new Set<ChatController>();
  private readonly visibility = new vscode.EventEmitter<void>();
  /** A chat was shown, hidden, opened or closed. */
  readonly onDidChangeVisibility = this.visibility.event;

  private readonly following: vscode.Disposable;

  constructor(private readonly deps: Deps) {
    // The chats follow the current session: which session is in front changes with it.
    this.following = deps.current.onDidChange(() => this.visibility.fire());
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.adopt(view.webview, view.onDidDispose, () => view.visible, view.onDidChangeVisibility);
  }

  /** A chat in an editor tab (the same content; it follows the current session too). */
  openInEditor(): void {
    const panel = vscode.window.createWebviewPanel(ChatViewProvider.panelType, 'Agent Chat', vscode.ViewColumn.Beside, { retainContextWhenHidden: true });
    this.adopt(panel.webview, panel.onDidDispose, () => panel.visible, panel.onDidChangeViewState);
  }

  /**
   * An ended session (before a /clear, completed, failed) for reading, in an editor tab of its own:
   * it shows that session and does not follow the current one, so the chat view and the status bar
   * stay on the live session. Not restored after a window reload (its panel type has no serializer).
   */
  openReadOnly(session: Session): void {
    const open = this.readers.get(session.id);
    if (open) return open.reveal();
    const title = `Agent Chat: ${session.provider} ${shortId(session.id)} (${session.statusReason === 'clear' ? 'cleared' : session.status})`;
    const panel = vscode.window.createWebviewPanel(ChatViewProvider.readerType, title, vscode.ViewColumn.Active, { retainContextWhenHidden: true });
    this.readers.set(session.id, panel);
    panel.onDidDispose(() => this.readers.delete(session.id));
    this.adopt(panel.webview, panel.onDidDispose, () => panel.visible, panel.onDidChangeViewState, session.id);
  }

  /** Chat editors come back after a window reload. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    this.adopt(panel.webview, panel.onDidDispose, () => panel.visible, panel.onDidChangeViewState);
  }

  /** A chat showing the session is on screen in a focused window (an approval there is seen). */
  inFront(sessionId: string): boolean {
    return vscode.window.state.focused && [...this.controllers].some((c) => c.sessionId === sessionId && c.visible());
  }

  async show(): Promise<void> {
    await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
  }

  /** The sessions the open chats show. */
  sessionIds(): string[] {
    return [...this.controllers].map((c) => c.sessionId).filter((id): id is string => !!id);
  }

  dispose(): void {
    for (const c of this.controllers) c.dispose();
    this.controllers.clear();
    this.following.dispose();
    this.visibility.dispose();
  }

  private adopt(webview: vscode.Webview, onDidDispose: vscode.Event<void>, visible: () => boolean, onDidChangeVisibility: vscode.Event<unknown>, pinned?: string): void {
    const controller = new ChatController(webview, this.deps, visible, pinned);
    this.controllers.add(controller);
    const watch = onDidChangeVisibility(() => this.visibility.fire());
    onDidDispose(() => {
      watch.dispose();
      controller.dispose();
      this.controllers.delete(controller);
      this.visibility.fire();
    });
  }
}

/** One chat webview: loads the current session's conversation, then streams its events. */
class ChatController implements vscode.Disposable {
  private attachment: Attachment | undefined;
  private shownId: string | undefined;
  /** The current session this chat loaded, or followed to across a /clear. */
  private loadedFor: string | undefined;
  private loading = 0;
  private disposed = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly extensionUri: vscode.Uri;
  private readonly client: SidecarClient;
  private readonly current: CurrentSession;
  private readonly log: vscode.LogOutputChannel;
  private readonly resume: Deps['resume'];
  private readonly diffs: DiffDocuments;

  /** `pinned`: the session this chat shows whatever the current session is (a read-only chat of an ended one). */
  constructor(private readonly webview: vscode.Webview, deps: Deps, readonly visible: () => boolean, private readonly pinned?: string) {
    ({ extensionUri: this.extensionUri, client: this.client, current: this.current, log: this.log, resume: this.resume, diffs: this.diffs } = deps);
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    webview.options = { enableScripts: true, localResourceRoots: [media, dist] };
    webview.html = this.html(webview);
    this.disposables.push(
      webview.onDidReceiveMessage((m: WebviewMessage) => void this.onMessage(m)),
      // Reload only when the current session becomes another one. Problem: a /clear's
      // session/changed for the old session can come after the chat followed the transition, while
      // the current session is still the old one; reloading then would start after the transition
      // and lose the divider. Solution: compare with the current session loaded, not the one shown.
      this.current.onDidChange((s) => {
        if (this.pinned) return;
        const id = this.current.sessionId;
        if (id !== this.loadedFor && !this.follows(s)) {
          void this.load();
          return;
        }
        this.loadedFor = id;
        if (s) this.post({ type: 'session', session: summarize(s) });
      }),
    );
  }

  /** The session shown (after a /clear: the new one). */
  get sessionId(): string | undefined {
    return this.attachment?.cursor.sessionId ?? this.shownId;
  }

  dispose(): void {
    this.disposed = true;
    this.attachment?.dispose();
    this.attachment = undefined;
    for (const d of this.disposables) d.dispose();
  }

  /** The attachment already follows /clear: a current session it reached by a transition needs no reload. */
  private follows(s: Session | undefined): boolean {
    return !!s && !!this.attachment && this.attachment.cursor.sessionId === s.id;
  }

  private post(message: HostMessage): void {
    if (!this.disposed) void this.webview.postMessage(message);
  }

  private async load(): Promise<void> {
    if (this.disposed) return;
    const generation = ++this.loading;
    this.attachment?.dispose();
    this.attachment = undefined;
    const id = this.pinned ?? this.current.sessionId;
    this.shownId = id;
    this.loadedFor = id;
    if (!id) {
      this.post({ type: 'reset', history: [] });
      return;
    }
    try {
      const session = await this.client.request(GetSession.type, { sessionId: id });
      const chain: Session[] = [session];
      while (chain.length <= previousSessionsShown && chain[0].transitionedFrom) {
        chain.unshift(await this.client.request(GetSession.type, { sessionId: chain[0].transitionedFrom }));
      }
      // Each session's chat events up to its last as of session/get: the webview replays them.
      const history: SessionHistory[] = [];
      const read = (p: GetSessionEvents.Params) => this.client.request(GetSessionEvents.type, p);
      for (const s of chain) {
        const events = await readChatEvents(read, s.id, { upTo: s.lastSeq }, (m) => this.log.warn(`chat: ${m}`));
        history.push({ sessionId: s.id, events });
      }
      if (generation !== this.loading) return;
      this.post({ type: 'reset', session: summarize(session), history, busy: session.busy });
      // An ended session read here gets no new events; an attachment to one cleared would go on
      // into the next session's (attachments follow /clear), which this chat must not show.
      if (this.pinned) return;
      // Live from the session's last event as of session/get: no event is missing or shown twice.
      const attachment = await this.client.attach({
        sessionId: session.id,
        afterSeq: session.lastSeq,
        channels: ['chat', 'system'],
        onEvent: (event) => {
          this.post({ type: 'event', event });
          if (event.sessionId !== this.shownId && event.channel === 'system' && event.type === 'transition') this.shownId = event.sessionId;
        },
      });
      if (generation !== this.loading || this.disposed) attachment.dispose();
      else this.attachment = attachment;
    } catch (err) {
      this.log.warn(`chat: could not load session ${id}: ${(err as Error).message}`);
      this.post({ type: 'notice', level: 'error', text: `Could not load the session: ${(err as Error).message}` });
    }
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    const sessionId = this.pinned ?? this.attachment?.cursor.sessionId ?? this.current.sessionId;
    try {
      switch (m.type) {
        case 'ready':
          await this.load();
          return;
        case 'send':
          if (!sessionId) return;
          await this.send(sessionId, m.text);
          return;
        case 'resume':
          if (sessionId) await this.resume(sessionId);
          return;
        case 'cancel':
          if (sessionId) await this.client.request(CancelChat.type, { sessionId });
          return;
        case 'clear':
          if (sessionId) await this.client.request(ClearSession.type, { sessionId });
          return;
        case 'copy':
          await vscode.env.clipboard.writeText(m.text);
          return;
        case 'startSession':
          await vscode.commands.executeCommand('agentSidecar.startSession');
          return;
        case 'approve':
          await this.approve(m.sessionId, m.approvalId, m.optionId);
          return;
        case 'openDiff':
          await this.diffs.open(m);
          return;
        case 'openFile':
          await this.openFile(m.path, m.line);
          return;
      }
    } catch (err) {
      this.post({ type: 'notice', level: 'error', text: (err as Error).message });
    }
  }

  private async approve(sessionId: string, approvalId: string, optionId: string): Promise<void> {
    try {
      const r = await this.client.request(ApproveChat.type, { sessionId, approvalId, optionId });
      this.post({ type: 'approved', sessionId, approval: r.approval });
    } catch (err) {
      this.post({ type: 'approveFailed', sessionId, approvalId, text: `Could not answer the approval: ${(err as Error).message}` });
    }
  }

  /** Opens a file a tool call names (a relative path is the session's workspace's), at its line. */
  private async openFile(file: string, line?: number): Promise<void> {
    const workspace = this.current.value?.workspace;
    const full = path.isAbsolute(file) || !workspace ? file : path.join(workspace, file);
    const at = line && line > 0 ? new vscode.Position(line - 1, 0) : undefined;
    await vscode.window.showTextDocument(vscode.Uri.file(full), { preview: true, selection: at && new vscode.Range(at, at) });
  }

  /** Sends a message; to a suspended session, resumes it first (the agent continues the same conversation). */
  private async send(sessionId: string, text: string): Promise<void> {
    try {
      await this.client.request(SendChat.type, { sessionId, text });
      return;
    } catch (err) {
      if (!(err instanceof SidecarError && err.code === ErrorCodes.InvalidState)) throw err;
      const s = await this.client.request(GetSession.type, { sessionId }).catch(() => undefined);
      if (s?.status !== 'suspended') throw err;
    }
    this.post({ type: 'notice', level: 'info', text: 'resuming the session to send the message…' });
    await this.resume(sessionId);
    await this.client.request(SendChat.type, { sessionId, text });
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'chat.css'));
    const csp = `default-src 'none'; style-src ${webview.cspSource}; img-src ${webview.cspSource} data:; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';`;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style}" rel="stylesheet">
<title>Agent Chat</title>
</head>
<body>
<div class="chat">
  <header><span id="session"></span><button id="resume" type="button" hidden title="Start the agent again; it continues the conversation">Resume</button><button id="new" class="secondary" type="button">New Session</button><button id="clear" class="secondary" type="button" title="Clear the conversation (/clear)">Clear</button></header>
  <div id="messages" role="log" aria-live="polite"></div>
  <div id="busy" hidden><span class="spinner"></span><span id="busy-text">Working…</span><button id="cancel" class="secondary" type="button">Cancel</button></div>
  <footer><textarea id="input" rows="2" placeholder="Message the agent (Enter sends, Shift+Enter adds a line)"></textarea><button id="send" type="button">Send</button></footer>
</div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }
}
