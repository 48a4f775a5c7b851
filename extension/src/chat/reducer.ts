// The chat view's state and the one function that changes it. Shared by the webview (which renders
// the state) and the unit tests; the extension host only forwards protocol events and history.
import type { ChatApprovalData, SessionEvent } from '../protocol/events';
import type { Session } from '../protocol/types';
import { ApprovalItem, TurnItem, approvalItem, approvalKey, placeTurnItem, planItem, toolItem } from './turnItems';

export interface MessageItem { kind: 'message'; key: string; role: 'user' | 'assistant'; text: string; turnId: string; sessionId: string; streaming: boolean }
export interface DividerItem { kind: 'divider'; key: string; label: string }
export interface NoticeItem { kind: 'notice'; key: string; level: 'info' | 'error'; text: string }
export type ChatItem = MessageItem | DividerItem | NoticeItem | TurnItem;

/** `waiting`: while busy, what the session waits for (`approval`). */
export interface SessionSummary { id: string; provider: string; status: string; statusReason?: string; taskId?: string; model?: string; workspace?: string; waiting?: string }

export interface ChatState {
  session?: SessionSummary;
  /** The turn that is running (a chat/user without its chat/turn yet). */
  busyTurn?: string;
  items: ChatItem[];
  /** What is typed in the input box (kept across reloads). */
  draft: string;
}

/** A session's chat events, oldest first, as session/events returns them (the chat is rebuilt from them). */
export interface SessionHistory { sessionId: string; events: SessionEvent[] }

/** Host → webview. */
export type HostMessage =
  | { type: 'reset'; session?: SessionSummary; history: SessionHistory[]; busy?: boolean }
  | { type: 'event'; event: SessionEvent }
  | { type: 'session'; session: SessionSummary }
  | { type: 'notice'; level: 'info' | 'error'; text: string }
  /** chat/approve answered: the approval as it now stands. */
  | { type: 'approved'; sessionId: string; approval: ChatApprovalData }
  /** chat/approve failed: the buttons come back, the error shows. */
  | { type: 'approveFailed'; sessionId: string; approvalId: string; text: string };

/** Webview → host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'cancel' }
  | { type: 'clear' }
  | { type: 'resume' }
  | { type: 'copy'; text: string }
  | { type: 'startSession' }
  | { type: 'approve'; sessionId: string; approvalId: string; optionId: string }
  /** The edit's file in VS Code's diff editor: oldText (empty for a new file) against newText. */
  | { type: 'openDiff'; path: string; oldText?: string; newText?: string }
  | { type: 'openFile'; path: string; line?: number };

/** Local actions of the webview itself. */
export type LocalAction =
  | { type: 'draft'; text: string }
  | { type: 'sending' }
  /** An option of an approval was clicked: its buttons wait for the answer. */
  | { type: 'answering'; key: string; optionId: string };

export const initialState: ChatState = { items: [], draft: '' };

export function summarize(s: Session): SessionSummary {
  // Live in the log but run by no sidecar (its sidecar crashed): say so rather than "active".
  const status = (s.status === 'active' || s.status === 'created') && !s.owner ? 'not running' : s.status;
  return { id: s.id, provider: s.provider, status, statusReason: s.statusReason, taskId: s.taskId, model: s.model, workspace: s.workspace, waiting: s.busy ? s.waiting : undefined };
}

const clearedLabel = 'conversation cleared';
let noticeCounter = 0;

export function reduce(state: ChatState, msg: HostMessage | LocalAction): ChatState {
  switch (msg.type) {
    case 'draft':
      return { ...state, draft: msg.text };
    case 'sending':
      return { ...state, draft: '' };
    case 'reset':
      return rebuild(state, msg);
    case 'session':
      return state.session && msg.session.id !== state.session.id ? state : { ...state, session: msg.session, busyTurn: isLive(msg.session.status) ? state.busyTurn : undefined };
    case 'notice':
      return { ...state, items: [...state.items, { kind: 'notice', key: `notice:${++noticeCounter}`, level: msg.level, text: msg.text }] };
    case 'event':
      return onEvent(state, msg.event);
    case 'answering': {
      const item = state.items.find((i) => i.key === msg.key);
      if (item?.kind !== 'approval' || item.approval.status !== 'pending') return state;
      return replace(state, { ...item, answering: msg.optionId });
    }
    case 'approved':
      return { ...state, items: placeTurnItem(state.items, approvalItem(msg.sessionId, msg.approval, findApproval(state, msg.sessionId, msg.approval.approvalId))) };
    case 'approveFailed': {
      const item = findApproval(state, msg.sessionId, msg.approvalId);
      const next = item ? replace(state, { ...item, answering: undefined }) : state;
      return { ...next, items: [...next.items, { kind: 'notice', key: `notice:${++noticeCounter}`, level: 'error', text: msg.text }] };
    }
  }
}

/**
 * The chat rebuilt from the sessions' chat events (the oldest session first, a divider between
 * sessions), by the same steps as when they stream in: a reload shows what streaming showed.
 */
function rebuild(state: ChatState, msg: Extract<HostMessage, { type: 'reset' }>): ChatState {
  let next: ChatState = { ...state, session: msg.session, items: [], busyTurn: undefined };
  msg.history.forEach((h, i) => {
    if (i > 0) next = { ...next, items: [...next.items, { kind: 'divider', key: `divider:${h.sessionId}`, label: clearedLabel }] };
    for (const e of h.events) if (e.channel === 'chat') next = onChat(next, e);
  });
  return { ...next, busyTurn: msg.busy ? next.busyTurn ?? pendingTurn(next.items) : undefined };
}

export const workingLabel = 'Working…';
export const approvalLabel = 'Waiting for your approval';

/** The busy bar's words, or undefined when no turn runs. */
export function busyLabel(state: ChatState): string | undefined {
  const waiting = state.session?.waiting === 'approval'
    || state.items.some((i) => i.kind === 'approval' && i.approval.status === 'pending' && i.turnId === state.busyTurn);
  if (waiting) return approvalLabel;
  return state.busyTurn ? workingLabel : undefined;
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
    // Each written again, whole, on every change: the latest event is the item as it stands.
    case 'tool':
      return { ...state, items: placeTurnItem(state.items, toolItem(e.sessionId, e.data)) };
    case 'approval':
      return { ...state, items: placeTurnItem(state.items, approvalItem(e.sessionId, e.data, findApproval(state, e.sessionId, e.data.approvalId))) };
    case 'plan':
      return { ...state, items: placeTurnItem(state.items, planItem(e.sessionId, turnId, e.data.entries)) };
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
  if (status === 'active' && reason === 'continued') return 'session continued: the agent is back on its conversation';
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

function findApproval(state: ChatState, sessionId: string, approvalId: string): ApprovalItem | undefined {
  const item = state.items.find((i) => i.key === approvalKey(sessionId, approvalId));
  return item?.kind === 'approval' ? item : undefined;
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
