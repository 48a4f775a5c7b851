// The chat webview: renders ChatState, sends user actions to the extension host. Bundled for the
// browser (dist/webview.js) and loaded with the page's nonce under a `default-src 'none'` CSP.
import { ChatItem, ChatState, HostMessage, LocalAction, WebviewMessage, initialState, reduce } from '../chat/reducer';
import { renderMarkdown } from '../chat/markdown';
import { shortId } from '../protocol/types';

interface VsCodeApi { postMessage(msg: WebviewMessage): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let state: ChatState = { ...initialState, ...((vscode.getState() as ChatState | undefined) ?? {}) };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const header = $('session');
const list = $('messages');
const input = $<HTMLTextAreaElement>('input');
const busy = $('busy');
const sendButton = $<HTMLButtonElement>('send');
const clearButton = $<HTMLButtonElement>('clear');
const newButton = $<HTMLButtonElement>('new');
const resumeButton = $<HTMLButtonElement>('resume');
const rendered = new Map<string, { html: string; el: HTMLElement }>();

function dispatch(msg: HostMessage | LocalAction): void {
  state = reduce(state, msg);
  vscode.setState(state);
  render();
}

function render(): void {
  const s = state.session;
  header.textContent = s ? `${s.provider}${s.taskId ? ` · ${s.taskId}` : ''} · ${s.status} · ${shortId(s.id)}` : 'No session. Start one with "Agent Sidecar: Start Session".';
  header.dataset.sessionId = s?.id ?? '';
  header.dataset.status = s?.status ?? '';
  const live = !!s && (s.status === 'active' || s.status === 'created');
  // A suspended session takes messages too: sending resumes it first.
  const suspended = s?.status === 'suspended';
  busy.hidden = !state.busyTurn;
  sendButton.disabled = !(live || suspended) || !!state.busyTurn;
  clearButton.disabled = !live;
  newButton.hidden = live;
  resumeButton.hidden = !suspended;
  input.disabled = !(live || suspended);
  input.placeholder = suspended ? 'The session is suspended: sending a message resumes it first' : 'Message the agent (Enter sends, Shift+Enter adds a line)';
  if (input.value !== state.draft && document.activeElement !== input) input.value = state.draft;

  const keep = new Set(state.items.map((i) => i.key));
  for (const [key, r] of rendered) if (!keep.has(key)) (r.el.remove(), rendered.delete(key));
  let previous: HTMLElement | null = null;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  for (const item of state.items) {
    const html = itemHtml(item);
    let r = rendered.get(item.key);
    if (!r) {
      r = { html: '', el: document.createElement('div') };
      rendered.set(item.key, r);
    }
    const cls = itemClass(item);
    if (r.el.className !== cls) r.el.className = cls;
    if (r.html !== html) {
      r.el.innerHTML = html; // only markdown-it output (raw HTML disabled) or escaped text
      r.html = html;
    }
    const expected: ChildNode | null = previous ? previous.nextSibling : list.firstChild;
    if (expected !== r.el) list.insertBefore(r.el, expected);
    previous = r.el;
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function itemClass(item: ChatItem): string {
  switch (item.kind) {
    case 'message': return `message ${item.role}${item.streaming ? ' streaming' : ''}`;
    case 'divider': return 'divider';
    case 'notice': return `notice ${item.level}`;
  }
}

function itemHtml(item: ChatItem): string {
  switch (item.kind) {
    case 'message': {
      const body = item.role === 'assistant' ? renderMarkdown(item.text) : `<p>${escapeHtml(item.text).replace(/\n/g, '<br>')}</p>`;
      return `<div class="role">${item.role === 'user' ? 'You' : 'Agent'}</div><div class="body">${body}</div>`;
    }
    case 'divider': return `<span>${escapeHtml(item.label)}</span>`;
    case 'notice': return escapeHtml(item.text);
  }
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function send(): void {
  const text = input.value;
  if (!text.trim() || sendButton.disabled) return;
  vscode.postMessage({ type: 'send', text });
  input.value = '';
  dispatch({ type: 'sending' });
}

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
input.addEventListener('input', () => {
  state = reduce(state, { type: 'draft', text: input.value });
  vscode.setState(state);
});
sendButton.addEventListener('click', send);
$('cancel').addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
clearButton.addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
newButton.addEventListener('click', () => vscode.postMessage({ type: 'startSession' }));
resumeButton.addEventListener('click', () => vscode.postMessage({ type: 'resume' }));
list.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest('button.copy');
  const code = button?.closest('.code-block')?.querySelector('code');
  if (!button || !code) return;
  vscode.postMessage({ type: 'copy', text: code.textContent ?? '' });
  button.textContent = 'Copied';
  setTimeout(() => (button.textContent = 'Copy'), 1500);
});
window.addEventListener('message', (e: MessageEvent<HostMessage>) => dispatch(e.data));

render();
vscode.postMessage({ type: 'ready' });
