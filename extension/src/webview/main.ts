// The chat webview: renders ChatState, sends user actions to the extension host. Bundled for the
// browser (dist/webview.js) and loaded with the page's nonce under a `default-src 'none'` CSP.
import { ChatItem, ChatState, HostMessage, LocalAction, WebviewMessage, approvalLabel, busyLabel, initialState, reduce } from '../chat/reducer';
import { renderMarkdown } from '../chat/markdown';
import { shortId } from '../protocol/types';
import { approvalCardHtml, escapeHtml, planCardHtml, toolCardHtml } from './cards';

interface VsCodeApi { postMessage(msg: WebviewMessage): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let state: ChatState = { ...initialState, ...((vscode.getState() as ChatState | undefined) ?? {}) };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const header = $('session');
const list = $('messages');
const input = $<HTMLTextAreaElement>('input');
const busy = $('busy');
const busyText = $('busy-text');
const sendButton = $<HTMLButtonElement>('send');
const clearButton = $<HTMLButtonElement>('clear');
const newButton = $<HTMLButtonElement>('new');
const resumeButton = $<HTMLButtonElement>('resume');
const rendered = new Map<string, { html: string; el: HTMLElement }>();
/** Folds (tool cards, long outputs) the user opened or closed, by their data-fold id. */
const folds = new Map<string, boolean>();
const isOpen = (id: string, byDefault: boolean) => folds.get(id) ?? byDefault;

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
  const label = busyLabel(state);
  busy.hidden = !label;
  busy.classList.toggle('waiting', label === approvalLabel);
  if (label && busyText.textContent !== label) busyText.textContent = label;
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
    case 'tool': return `card tool ${item.tool.status}${item.tool.files?.length ? ' edit' : ''}`;
    case 'approval': return `card approval ${item.approval.status}`;
    case 'plan': return 'card plan';
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
    case 'tool': return toolCardHtml(item, state.session?.workspace, isOpen);
    case 'approval': return approvalCardHtml(item);
    case 'plan': return planCardHtml(item);
  }
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
/** A card's button: answer an approval, open an edit's diff or file. */
function onCardAction(button: HTMLElement): void {
  const item = state.items.find((i) => i.key === button.dataset.key);
  switch (button.dataset.action) {
    case 'approve': {
      const optionId = button.dataset.option;
      if (item?.kind !== 'approval' || !optionId || item.answering) return;
      dispatch({ type: 'answering', key: item.key, optionId });
      vscode.postMessage({ type: 'approve', sessionId: item.sessionId, approvalId: item.approval.approvalId, optionId });
      return;
    }
    case 'openDiff': {
      const file = item?.kind === 'tool' ? item.tool.files?.[Number(button.dataset.index)] : undefined;
      if (file) vscode.postMessage({ type: 'openDiff', path: file.path, oldText: file.oldText, newText: file.newText });
      return;
    }
    case 'openFile': {
      const file = item?.kind === 'tool' ? item.tool.files?.[Number(button.dataset.index)] : undefined;
      const path = file?.path ?? button.dataset.path;
      const line = button.dataset.line ? Number(button.dataset.line) : undefined;
      if (path) vscode.postMessage({ type: 'openFile', path, line });
      return;
    }
  }
}

// `toggle` does not bubble: listen in the capture phase.
list.addEventListener('toggle', (e) => {
  const fold = e.target as HTMLDetailsElement;
  if (fold.dataset.fold) folds.set(fold.dataset.fold, fold.open);
}, true);
list.addEventListener('click', (e) => {
  const action = (e.target as HTMLElement).closest<HTMLElement>('button[data-action]');
  if (action) {
    onCardAction(action);
    return;
  }
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
