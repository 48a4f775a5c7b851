// Protocol v1 events (docs/protocol.md, "Event"), typed, and the one parser every reader goes
// through. An example of each shape is in tests/testdata/protocol/events, which the C# tests load
// too: the payloads here mirror the C# records that write them (EventPayloads.cs, ChatEvents.cs,
// TransitionData, MetricsRecord).
//
// Values that name a state or a cause (status, reason, source, action, trigger) are strings, not
// unions: the protocol adds values, and a value this extension does not know must not cost it the
// whole event. Literal types are used only where the sidecar writes one fixed value.
import { Check, Shape, array, boolean, literal, number, object, oneOf, optional, string } from './check';
import type { Worker } from './types';

/** Terminal output as text (UTF-8, never split inside a character), up to 64 KiB per event. */
export interface PtyOutputData { data: string }
export interface PtyResizeData { cols: number; rows: number }
/** `reason: "owner-lost"`: its sidecar died and the next one recorded the end. */
export interface PtyExitData { exitCode?: number; signal?: number; reason?: string }

export interface SystemStatusData { status: string; reason?: string; previous?: string }
export interface SystemWorkerData { action: string; worker: Worker }
/** `source: "store"` with `lostBytes`: output that could not be recorded while the log was unwritable. */
export interface SystemErrorData { message: string; source?: string; tail?: string; lostBytes?: number }
export interface SystemWorktreeData { action: string; path: string; branch?: string; reason?: string }
/** The last event of a cleared session has `to`, the first of the next one `from`. */
export interface SystemTransitionData { from?: string; to?: string; trigger: string }

export interface ChatUserData { turnId: string; text: string; source: string }
export interface ChatDeltaData { turnId: string; text: string }
export interface ChatMessageData { turnId: string; role: 'assistant'; text: string; source: string }
export interface TurnUsage { inputTokens: number; outputTokens: number; cachedInputTokens: number; toolCalls: number }
export interface ChatTurnData { turnId: string; status: string; durationMs: number; usage?: TurnUsage; reason?: string }

/** A file an edit changed: `oldText` is absent for a new file; `diff` is unified. */
export interface ToolFile { path: string; oldText?: string; newText?: string; diff: string }
export interface ToolLocation { path: string; line?: number }
/**
 * One tool call, whole, written again on every change of state (the latest event for a
 * `toolCallId` is the call as it stands). `kind`: read, edit, delete, move, search, execute, think,
 * fetch, other; `status`: pending, in_progress, completed, failed. `output` is the tail.
 */
export interface ChatToolData {
  turnId: string;
  toolCallId: string;
  kind: string;
  title: string;
  status: string;
  command?: string;
  cwd?: string;
  output?: string;
  outputTruncated?: boolean;
  exitCode?: number;
  files?: ToolFile[];
  locations?: ToolLocation[];
}
/** `kind`: allow_once, allow_always, reject_once, reject_always. */
export interface ApprovalOption { optionId: string; label: string; kind: string }
/** A question the agent asks before it acts; `status` pending, allowed, rejected, cancelled; `resolvedBy` chat, terminal, agent. */
export interface ChatApprovalData {
  turnId: string;
  approvalId: string;
  toolCallId?: string;
  title: string;
  detail: string;
  options: ApprovalOption[];
  status: string;
  resolvedBy?: string;
  optionId?: string;
}
/** `status`: pending, in_progress, completed. */
export interface PlanEntry { text: string; status: string }
export interface ChatPlanData { turnId: string; entries: PlanEntry[] }

/** One turn's usage delta in a metrics record (docs/metrics.md). */
export interface MetricsUsage { turns: number; inputTokens: number; outputTokens: number; cachedInputTokens: number; toolCalls: number; activeMs: number }
/** The fields every metrics record has (docs/metrics.md); `kind` equals the event's type. */
export interface MetricsRecordData {
  id: string;
  kind: string;
  ts: string;
  sessionId: string;
  agentSessionId?: string;
  provider: string;
  model?: string;
  workspace: string;
  taskId?: string;
  startedAt: string;
  endedAt?: string;
  reason?: string;
  transitionedFrom?: string;
  transitionedTo?: string;
  usage?: MetricsUsage;
}
export interface MetricsStartData extends MetricsRecordData { kind: 'start' }
export interface MetricsEndData extends MetricsRecordData { kind: 'end'; endedAt: string; reason: string }
export interface MetricsUsageData extends MetricsRecordData { kind: 'usage'; usage: MetricsUsage }

/** Every event this extension knows, discriminated by channel and type. */
export type SessionEventData =
  | { channel: 'pty'; type: 'output'; data: PtyOutputData }
  | { channel: 'pty'; type: 'resize'; data: PtyResizeData }
  | { channel: 'pty'; type: 'exit'; data: PtyExitData }
  | { channel: 'system'; type: 'status'; data: SystemStatusData }
  | { channel: 'system'; type: 'worker'; data: SystemWorkerData }
  | { channel: 'system'; type: 'error'; data: SystemErrorData }
  | { channel: 'system'; type: 'worktree'; data: SystemWorktreeData }
  | { channel: 'system'; type: 'transition'; data: SystemTransitionData }
  | { channel: 'chat'; type: 'user'; data: ChatUserData }
  | { channel: 'chat'; type: 'delta'; data: ChatDeltaData }
  | { channel: 'chat'; type: 'message'; data: ChatMessageData }
  | { channel: 'chat'; type: 'turn'; data: ChatTurnData }
  | { channel: 'chat'; type: 'tool'; data: ChatToolData }
  | { channel: 'chat'; type: 'approval'; data: ChatApprovalData }
  | { channel: 'chat'; type: 'plan'; data: ChatPlanData }
  | { channel: 'metrics'; type: 'start'; data: MetricsStartData }
  | { channel: 'metrics'; type: 'end'; data: MetricsEndData }
  | { channel: 'metrics'; type: 'usage'; data: MetricsUsageData };

/** What every event has, whatever its type. `seq` starts at 1 per session and has no gaps. */
export interface EventEnvelope { sessionId: string; seq: number; ts: string; workerId?: string }

/** A parsed event: narrow it with `channel` and `type` to get its `data` typed. */
export type SessionEvent = EventEnvelope & SessionEventData;

/** An event as the wire carries it, before parseSessionEvent. */
export interface WireEvent extends EventEnvelope { channel: string; type: string; data?: unknown }

export type EventChannel = SessionEventData['channel'];

type DataByKind = { [E in SessionEventData as `${E['channel']}/${E['type']}`]: E['data'] };
/** `pty/output`, `chat/turn`, …: how docs/protocol.md names an event. */
export type EventKind = keyof DataByKind;

const turnUsage = object<TurnUsage>({ inputTokens: number, outputTokens: number, cachedInputTokens: number, toolCalls: number });
const metricsUsage = object<MetricsUsage>({ turns: number, inputTokens: number, outputTokens: number, cachedInputTokens: number, toolCalls: number, activeMs: number });
const metricsRecord: Omit<Shape<MetricsRecordData>, 'kind'> = {
  id: string, ts: string, sessionId: string, agentSessionId: optional(string), provider: string, model: optional(string),
  workspace: string, taskId: optional(string), startedAt: string, endedAt: optional(string), reason: optional(string),
  transitionedFrom: optional(string), transitionedTo: optional(string), usage: optional(metricsUsage),
};
const worker = object<Worker>({
  id: string, sessionId: string, kind: oneOf('agent', 'terminal'), name: string, status: oneOf('running', 'exited'),
  pid: optional(number), exitCode: optional(number), signal: optional(number), cols: number, rows: number,
  command: optional(string), args: optional(array(string)), cwd: optional(string),
});

/** The payload check of each known event; the compiler holds this to SessionEventData, both ways. */
const payloads: { [K in EventKind]: Check<DataByKind[K]> } = {
  'pty/output': object<PtyOutputData>({ data: string }),
  'pty/resize': object<PtyResizeData>({ cols: number, rows: number }),
  'pty/exit': object<PtyExitData>({ exitCode: optional(number), signal: optional(number), reason: optional(string) }),
  'system/status': object<SystemStatusData>({ status: string, reason: optional(string), previous: optional(string) }),
  'system/worker': object<SystemWorkerData>({ action: string, worker }),
  'system/error': object<SystemErrorData>({ message: string, source: optional(string), tail: optional(string), lostBytes: optional(number) }),
  'system/worktree': object<SystemWorktreeData>({ action: string, path: string, branch: optional(string), reason: optional(string) }),
  'system/transition': object<SystemTransitionData>({ from: optional(string), to: optional(string), trigger: string }),
  'chat/user': object<ChatUserData>({ turnId: string, text: string, source: string }),
  'chat/delta': object<ChatDeltaData>({ turnId: string, text: string }),
  'chat/message': object<ChatMessageData>({ turnId: string, role: literal('assistant'), text: string, source: string }),
  'chat/turn': object<ChatTurnData>({ turnId: string, status: string, durationMs: number, usage: optional(turnUsage), reason: optional(string) }),
  'chat/tool': object<ChatToolData>({
    turnId: string, toolCallId: string, kind: string, title: string, status: string, command: optional(string), cwd: optional(string),
    output: optional(string), outputTruncated: optional(boolean), exitCode: optional(number),
    files: optional(array(object<ToolFile>({ path: string, oldText: optional(string), newText: optional(string), diff: string }))),
    locations: optional(array(object<ToolLocation>({ path: string, line: optional(number) }))),
  }),
  'chat/approval': object<ChatApprovalData>({
    turnId: string, approvalId: string, toolCallId: optional(string), title: string, detail: string,
    options: array(object<ApprovalOption>({ optionId: string, label: string, kind: string })),
    status: string, resolvedBy: optional(string), optionId: optional(string),
  }),
  'chat/plan': object<ChatPlanData>({ turnId: string, entries: array(object<PlanEntry>({ text: string, status: string })) }),
  'metrics/start': object<MetricsStartData>({ ...metricsRecord, kind: literal('start') }),
  'metrics/end': object<MetricsEndData>({ ...metricsRecord, kind: literal('end'), endedAt: string, reason: string }),
  'metrics/usage': object<MetricsUsageData>({ ...metricsRecord, kind: literal('usage'), usage: metricsUsage }),
};

/** The (channel, type) pairs this extension knows: exactly the members of SessionEventData. */
export const knownEventTypes: readonly { readonly channel: EventChannel; readonly type: string }[] = Object.keys(payloads).map((kind) => {
  const [channel, type] = kind.split('/') as [EventChannel, string];
  return { channel, type };
});

const envelope = object<WireEvent>({ sessionId: string, seq: number, ts: string, channel: string, type: string, workerId: optional(string), data: optional((v) => v) });

/** Checks what every event has (throws if it is not an event at all); `data` is left unchecked. */
export function parseEventEnvelope(raw: unknown): WireEvent {
  try {
    return envelope(raw, 'event');
  } catch (err) {
    throw new Error(`malformed event: ${(err as Error).message}`);
  }
}

/**
 * The typed event, or undefined for a (channel, type) this extension does not know: the protocol
 * grows, and unknown events are skipped, not errors. Throws, saying which event and which field,
 * if the envelope is malformed or a known event's payload is.
 */
export function parseSessionEvent(raw: unknown): SessionEvent | undefined {
  const e = parseEventEnvelope(raw);
  const kind = `${e.channel}/${e.type}`;
  if (!Object.hasOwn(payloads, kind)) return undefined;
  try {
    payloads[kind as EventKind](e.data, 'data');
  } catch (err) {
    throw new Error(`malformed ${kind} event (session ${e.sessionId}, seq ${e.seq}): ${(err as Error).message}`);
  }
  return e as SessionEvent;
}
