// The agentic items of a turn (tool calls, approvals, the plan) as chat items, and where they go.
// Problem: the sidecar writes each item again, whole, on every change of state, and a reload
// rebuilds the chat from the same events, so an item must land in the same place however often it is
// re-sent. Solution: one key per item (its id), replaced in place; a new item goes at the end of its
// turn's work, before the turn's answer, so the answer stays the turn's last word whether its text
// streamed in before the tool calls or came after them.
import type { ApprovalOption, ChatApprovalData, ChatToolData, PlanEntry, SessionEvent } from '../protocol/events';

export interface ToolItem { kind: 'tool'; key: string; sessionId: string; turnId: string; tool: ChatToolData }
/** `answering`: the option the user picked in this chat, until the sidecar says how it ended. */
export interface ApprovalItem { kind: 'approval'; key: string; sessionId: string; turnId: string; approval: ChatApprovalData; answering?: string }
export interface PlanItem { kind: 'plan'; key: string; sessionId: string; turnId: string; entries: PlanEntry[] }
export type TurnItem = ToolItem | ApprovalItem | PlanItem;

/** What placement needs to know of any chat item. */
interface Placed { kind: string; key: string; turnId?: string; sessionId?: string; role?: string }

export const toolKey = (sessionId: string, toolCallId: string) => `tool:${sessionId}:${toolCallId}`;
export const approvalKey = (sessionId: string, approvalId: string) => `approval:${sessionId}:${approvalId}`;
export const planKey = (sessionId: string, turnId: string) => `plan:${sessionId}:${turnId}`;
const answerKey = (sessionId: string, turnId: string) => `assistant:${sessionId}:${turnId}`;

export function toolItem(sessionId: string, tool: ChatToolData): ToolItem {
  return { kind: 'tool', key: toolKey(sessionId, tool.toolCallId), sessionId, turnId: tool.turnId, tool };
}

export function approvalItem(sessionId: string, approval: ChatApprovalData, previous?: ApprovalItem): ApprovalItem {
  const item: ApprovalItem = { kind: 'approval', key: approvalKey(sessionId, approval.approvalId), sessionId, turnId: approval.turnId, approval };
  // Still pending: the answer sent from here is on its way; keep the buttons disabled.
  if (previous?.answering && approval.status === 'pending') item.answering = previous.answering;
  return item;
}

export function planItem(sessionId: string, turnId: string, entries: PlanEntry[]): PlanItem {
  return { kind: 'plan', key: planKey(sessionId, turnId), sessionId, turnId, entries };
}

/**
 * The items with `item` in them: in place of the item with its key, else before its turn's answer,
 * else after the last item of its turn, else at the end. Returns a new array.
 */
export function placeTurnItem<T extends Placed>(items: readonly T[], item: T): T[] {
  const at = items.findIndex((i) => i.key === item.key);
  if (at >= 0) return items.map((i, n) => (n === at ? item : i));
  const answer = items.findIndex((i) => i.key === answerKey(item.sessionId ?? '', item.turnId ?? ''));
  const next = [...items];
  if (answer >= 0) {
    next.splice(answer, 0, item);
    return next;
  }
  for (let n = items.length - 1; n >= 0; n--) {
    if (items[n].turnId === item.turnId && items[n].sessionId === item.sessionId) {
      next.splice(n + 1, 0, item);
      return next;
    }
  }
  next.push(item);
  return next;
}

export function isAllow(option: ApprovalOption): boolean {
  return option.kind.startsWith('allow');
}

/** How a resolved approval ended, in words: "Allowed by you in chat: Yes, proceed". */
export function approvalOutcome(a: ChatApprovalData): string {
  const label = a.options.find((o) => o.optionId === a.optionId)?.label;
  const by = a.resolvedBy === 'chat' ? ' by you in chat'
    : a.resolvedBy === 'terminal' ? ' by you in the terminal'
    : a.resolvedBy === 'agent' ? ' by the agent' : '';
  switch (a.status) {
    case 'allowed': return `Allowed${by}${label ? `: ${label}` : ''}`;
    case 'rejected': return `Rejected${by}${label ? `: ${label}` : ''}`;
    case 'cancelled': return 'Cancelled';
    default: return a.status;
  }
}

/** The approval still waiting for an answer among `events` (each approval as its latest event left it). */
export function pendingApproval(events: readonly SessionEvent[]): ChatApprovalData | undefined {
  const latest = new Map<string, ChatApprovalData>();
  for (const e of events) {
    if (e.channel !== 'chat' || e.type !== 'approval') continue;
    latest.delete(e.data.approvalId); // re-inserted: the map's order is the order of last change
    latest.set(e.data.approvalId, e.data);
  }
  return [...latest.values()].reverse().find((a) => a.status === 'pending');
}
