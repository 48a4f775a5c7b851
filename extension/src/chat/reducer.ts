// The chat view's state and the one function that changes it. Shared by the webview (which renders
// the state) and the unit tests; the extension host only forwards protocol events and history.
import type { SessionEvent } from '../protocol/events';
import type { ChatHistoryMessage, Session } from '../protocol/types';

export interface MessageItem { kind: 'message'; key: string; role: 'user' | 'assistant'; text: string; turnId: string; sessionId: string; streaming: boolean }
export interface DividerItem { kind: 'divider'; key: string; label: string }
export interface NoticeItem { kind: 'notice'; key: string; level: 'info' | 'error'; text: string }
export type ChatItem = MessageItem | DividerItem | NoticeItem;

export interface SessionSummary { id: string; provider: string; status: string; statusReason?: string; taskId?: string; model?: string; workspace?: string }

export interface ChatState {
  session?: SessionSummary;
  /** The turn that is running (a chat/user without its chat/turn yet). */
  busyTurn?: string;
  items: ChatItem[];
  /** What is typed in the input box (kept across reloads). */
  draft: string;
}

/** Host → webview. */
export type HostMessage =
  | { type: 'reset'; session?: SessionSummary; history: { sessionId: string; messages: ChatHistoryMessage[] }[]; busy?: boolean }
  | { type: 'event'; event: SessionEvent }
  | { type: 'session'; session: SessionSummary }
  | { type: 'notice'; level: 'info' | 'error'; text: string };

/** Webview → host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'cancel' }
  | { type: 'clear' }
  | { type: 'resume' }
  | { type: 'copy'; text: string }
  | { type: 'startSession' };

/** Local actions of the webview itself. */
export type LocalAction = { type: 'draft'; text: string } | { type: 'sending' };

export const initialState: ChatState = { items: [], draft: '' };

export function summarize(s: Session): SessionSummary {
  // Live in the log but run by no sidecar (its sidecar crashed): say so rather than "active".
  const status = (s.status === 'active' || s.status === 'created') && !s.owner ? 'not running' : s.status;
  return { id: s.id, provider: s.provider, status, statusReason: s.statusReason, taskId: s.taskId, model: s.model, workspace: s.workspace };
}

const clearedLabel = 'conversation cleared';
let noticeCounter = 0;

export function reduce(state: ChatState, msg: HostMessage | LocalAction): ChatState {
  switch (msg.type) {
    case 'draft':
      return { ...state, draft: msg.text };
    case 'sending':
      return { ...state, draft: '' };
    case 'reset': {
      const items: ChatItem[] = [];
      msg.history.forEach((h, i) => {
        if (i > 0) items.push({ kind: 'divider', key: `divider:${h.sessionId}`, label: clearedLabel });
        for (const m of h.messages) items.push(messageItem(h.sessionId, m.turnId, m.role, m.text, false));
      });
      return { ...state, session: msg.session, items, busyTurn: msg.busy ? pendingTurn(items) : undefined };
    }
    case 'session':
      return state.session && msg.session.id !== state.session.id ? state : { ...state, session: msg.session, busyTurn: isLive(msg.session.status) ? state.busyTurn : undefined };
    case 'notice':
      return { ...state, items: [...state.items, { kind: 'notice', key: `notice:${++noticeCounter}`, level: msg.level, text: msg.text }] };
    case 'event':
      return onEvent(state, msg.event);
  }
}

function onEvent(state: ChatState, e: SessionEvent): ChatState {
  if (e.channel === 'chat') return onChat(state, e);
  if (e.channel === 'system') return onSystem(state, e);
  return state;
}

function onChat(state: ChatState, e: Extract<SessionEvent, { channel: 'chat' }>): ChatState {
  const turnId = e.data.turnId;
  const key = (role: string) => `${role}:${e.sessionId}:${turnId}`;
  switch (e.type) {
    case 'user':
      if (state.items.some((i) => i.key === key('user'))) return state;
      return { ...state, busyTurn: turnId, items: [...state.items, messageItem(e.sessionId, turnId, 'user', e.data.text, false)] };
    case 'delta': {
      const existing = find(state, key('assistant'));
      if (existing && !existing.streaming) return state;
      if (!existing) return { ...state, items: [...state.items, messageItem(e.sessionId, turnId, 'assistant', e.data.text, true)] };
      return replace(state, { ...existing, text: existing.text + e.data.text });
    }
    case 'message': {
      const existing = find(state, key('assistant'));
      if (!existing) return { ...state, items: [...state.items, messageItem(e.sessionId, turnId, 'assistant', e.data.text, false)] };
      return replace(state, { ...existing, text: e.data.text, streaming: false });
    }
    case 'turn': {
      const { status, reason } = e.data;
      let next: ChatState = { ...state, busyTurn: state.busyTurn === turnId ? undefined : state.busyTurn };
      const existing = find(next, key('assistant'));
      if (existing?.streaming) next = replace(next, { ...existing, streaming: false });
      if (status !== 'completed') {
        const why = reason === 'owner-lost' ? ': the sidecar stopped unexpectedly while it ran' : reason ? `: ${reason}` : '';
        next = { ...next, items: [...next.items, { kind: 'notice', key: `turn:${e.sessionId}:${turnId}`, level: status === 'failed' ? 'error' : 'info', text: `turn ${status}${why}` }] };
      }
      return next;
    }
    case 'tool':
    case 'approval':
    case 'plan':
      // Agentic items: not drawn yet (the panel's cards are the next step of this work).
      return state;
  }
}

function onSystem(state: ChatState, e: Extract<SessionEvent, { channel: 'system' }>): ChatState {
  switch (e.type) {
    case 'transition': {
      // The old session's last event says `to`: draw the divider there. The new one's first says `from`.
      const { from, to } = e.data;
      if (to !== undefined) {
        const k = `divider:${to}`;
        if (state.items.some((i) => i.key === k)) return state;
        return { ...state, busyTurn: undefined, items: [...state.items, { kind: 'divider', key: k, label: clearedLabel }] };
      }
      if (from !== undefined && state.session) return { ...state, session: { ...state.session, id: e.sessionId, status: 'active' } };
      return state;
    }
    case 'status': {
      const { status, reason } = e.data;
      if (!state.session || state.session.id !== e.sessionId) return state;
      const next: ChatState = { ...state, session: { ...state.session, status, statusReason: reason }, busyTurn: isLive(status) ? state.busyTurn : undefined };
      const note = statusNote(status, reason);
      const key = `status:${e.sessionId}:${e.seq}`;
      if (!note || state.items.some((i) => i.key === key)) return next;
      return { ...next, items: [...next.items, { kind: 'notice', key, level: 'info', text: note }] };
    }
    case 'error':
      return { ...state, items: [...state.items, { kind: 'notice', key: `error:${e.sessionId}:${e.seq}`, level: 'error', text: e.data.message }] };
    default:
      return state;
  }
}

/** A line in the conversation where the session was suspended or resumed. */
export function statusNote(status: string, reason: string | undefined): string | undefined {
  if (status === 'suspended') {
    const why = reason === 'owner-lost' ? ': the sidecar stopped unexpectedly'
      : reason === 'idle' ? ' after being idle'
      : reason === 'shutdown' ? ': the sidecar shut down'
      : reason?.startsWith('resume failed') ? ` (${reason})` : '';
    return `session suspended${why}`;
  }
  if (status === 'active' && reason === 'resumed') return 'session resumed';
  return undefined;
}

function isLive(status: string): boolean {
  return status === 'active' || status === 'created';
}

function messageItem(sessionId: string, turnId: string, role: 'user' | 'assistant', text: string, streaming: boolean): MessageItem {
  return { kind: 'message', key: `${role}:${sessionId}:${turnId}`, role, text, turnId, sessionId, streaming };
}

function find(state: ChatState, key: string): MessageItem | undefined {
  const item = state.items.find((i) => i.key === key);
  return item?.kind === 'message' ? item : undefined;
}

function replace(state: ChatState, item: ChatItem): ChatState {
  return { ...state, items: state.items.map((i) => (i.key === item.key ? item : i)) };
}

/** The last user message without an answer (for a session reported busy on reset). */
function pendingTurn(items: ChatItem[]): string | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    if (it.kind === 'message') return it.role === 'user' ? it.turnId : undefined;
  }
  return undefined;
}
