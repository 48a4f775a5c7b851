// Protocol v1 requests (docs/protocol.md, "Methods"): one namespace per method with its name, its
// params and result, and the vscode-jsonrpc RequestType that carries both to `sendRequest`, so a
// call site cannot send the wrong params or read the wrong result. The names are a contract:
// tests/testdata/protocol/methods.json is checked against `requests` here and against the sidecar's
// in the C# tests. Notifications and error codes: notifications.ts.
import { RequestType, RequestType0 } from 'vscode-jsonrpc';
import type {
  ChatHistoryMessage, ChatSendResult, InitializeResult, ProviderInfo, ScreenResult, Session, SessionStatus, Worker, WorktreeInfo,
} from './types';
import type { ChatApprovalData, EventChannel, WireEvent } from './events';

/** Params of a method that takes none (the sidecar is sent `{}`). */
export type NoParams = Record<string, never>;
/** The `{}` result of a method that only acknowledges. */
export type Ack = Record<string, never>;

/** What most session methods take. */
export interface SessionIdParams { sessionId: string }
export interface WorkerIdParams { workerId: string }

export namespace Initialize {
  export const method = 'initialize';
  export interface Params {
    processId?: number;
    clientInfo?: { name: string; version?: string };
    initializationOptions?: Record<string, unknown>;
  }
  export type Result = InitializeResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/** Sent without params, as LSP does. */
/** Sent by a sidecar that hands its editor over to the one running its workspace's sessions (never by the extension). */
export namespace HandOver {
  export const method = '$/handOver';
  export interface Params { pid: number; version: string; workspace?: string }
  export interface Result { pid: number; version: string; primary: boolean }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace Shutdown {
  export const method = 'shutdown';
  export type Result = null;
  export const type = new RequestType0<Result, void>(method);
}

export namespace ListProviders {
  export const method = 'provider/list';
  export type Params = NoParams;
  export interface Result { providers: ProviderInfo[] }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace StartSession {
  export const method = 'session/start';
  export interface Params {
    /** An absolute path of an existing directory. */
    workspace: string;
    provider?: string;
    model?: string;
    taskId?: string;
    kind?: 'quick' | 'worktree';
    title?: string;
    /** Default true: a live quick session with the same provider, workspace and model is returned. */
    reuse?: boolean;
    /** Extra MCP servers (stdio) for providers with the `mcp` feature; never reuses a session. */
    mcpServers?: { name: string; command: string; args?: string[]; env?: Record<string, string> }[];
    /** A session this one takes the place of (another agent or model for the same folder). */
    replaces?: string;
    cols?: number;
    rows?: number;
  }
  export type Result = Session;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ListSessions {
  export const method = 'session/list';
  export interface Params { workspace?: string; provider?: string; status?: SessionStatus[]; taskId?: string; limit?: number; cursor?: string }
  /** Newest first; `nextCursor` is absent on the last page. */
  export interface Result { sessions: Session[]; nextCursor?: string }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace GetSession {
  export const method = 'session/get';
  export type Params = SessionIdParams;
  export type Result = Session;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace SuspendSession {
  export const method = 'session/suspend';
  export type Params = SessionIdParams;
  export type Result = Session;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ResumeSession {
  export const method = 'session/resume';
  export type Params = SessionIdParams;
  export type Result = Session;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace EndSession {
  export const method = 'session/end';
  export type Params = SessionIdParams;
  export type Result = Session;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace DeleteSession {
  export const method = 'session/delete';
  export type Params = SessionIdParams;
  /** `worktree` for worktree sessions only. */
  export interface Result { worktree?: WorktreeInfo }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ResetSessions {
  export const method = 'session/reset';
  export interface Params { workspace: string; provider?: string }
  export interface Result { ended: string[] }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace CleanupSessions {
  export const method = 'session/cleanup';
  export interface Params { idleSeconds?: number; purgeOlderThanDays?: number }
  export interface Result { ended: string[]; purged: string[] }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ClearSession {
  export const method = 'session/clear';
  export type Params = SessionIdParams;
  export interface Result { previous: Session; current: Session }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ImportSessions {
  export const method = 'session/import';
  export interface Params { workspace: string; provider: string }
  export interface Result { sessions: Session[] }
  export const type = new RequestType<Params, Result, void>(method);
}

/** Sets the session's task id, or clears it with `null` (the field is required). */
export namespace SetSessionTaskId {
  export const method = 'session/setTaskId';
  export interface Params { sessionId: string; taskId: string | null }
  export type Result = Session;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace AttachSession {
  export const method = 'session/attach';
  export interface Params { sessionId: string; afterSeq?: number; channels?: EventChannel[] }
  export interface Result { attachId: string; lastSeq: number }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace DetachSession {
  export const method = 'session/detach';
  export interface Params { attachId: string }
  export type Result = Ack;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace GetSessionEvents {
  export const method = 'session/events';
  export interface Params { sessionId: string; afterSeq?: number; limit?: number; channels?: EventChannel[] }
  /** The events as they came: read each with parseSessionEvent. */
  export interface Result { events: WireEvent[]; lastSeq: number; hasMore: boolean }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace StartWorker {
  export const method = 'worker/start';
  export interface Params { sessionId: string; kind?: 'terminal'; name?: string; command?: string; args?: string[]; cwd?: string; cols?: number; rows?: number; env?: Record<string, string> }
  export type Result = Worker;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ListWorkers {
  export const method = 'worker/list';
  export type Params = SessionIdParams;
  export interface Result { workers: Worker[] }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace StopWorker {
  export const method = 'worker/stop';
  export type Params = WorkerIdParams;
  export type Result = Worker;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace WorkerInput {
  export const method = 'worker/input';
  /** `data` is typed into the PTY as UTF-8 (`\r` for Enter). */
  export interface Params { workerId: string; data: string }
  export type Result = Ack;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ResizeWorker {
  export const method = 'worker/resize';
  export interface Params { workerId: string; cols: number; rows: number }
  export type Result = Ack;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace GetWorkerScreen {
  export const method = 'worker/screen';
  export type Params = WorkerIdParams;
  export type Result = ScreenResult;
  export const type = new RequestType<Params, Result, void>(method);
}

/** Answers when the turn ends. */
export namespace SendChat {
  export const method = 'chat/send';
  export interface Params { sessionId: string; text: string }
  export type Result = ChatSendResult;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace CancelChat {
  export const method = 'chat/cancel';
  export type Params = SessionIdParams;
  export type Result = Ack;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace GetChatHistory {
  export const method = 'chat/history';
  export interface Params { sessionId: string; limit?: number }
  /** Oldest first. */
  export interface Result { messages: ChatHistoryMessage[] }
  export const type = new RequestType<Params, Result, void>(method);
}

/** Answers a pending approval in the agent's own terminal; the result is the approval as resolved. */
export namespace ApproveChat {
  export const method = 'chat/approve';
  export interface Params { sessionId: string; approvalId: string; optionId: string }
  export interface Result { approval: ChatApprovalData }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace GetMetricsStatus {
  export const method = 'metrics/status';
  export type Params = NoParams;
  export interface Result { pending: number; sent: number; failed: number; lastSyncAt?: string; lastError?: string; endpoint?: string }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace FlushMetrics {
  export const method = 'metrics/flush';
  export type Params = NoParams;
  export interface Result { sent: number; pending: number }
  export const type = new RequestType<Params, Result, void>(method);
}

/** Every request of protocol v1 (the test holds it to methods.json). */
export const requests = [
  Initialize, HandOver, Shutdown, ListProviders,
  StartSession, ListSessions, GetSession, SuspendSession, ResumeSession, EndSession, DeleteSession,
  ResetSessions, CleanupSessions, ClearSession, ImportSessions, SetSessionTaskId, AttachSession, DetachSession, GetSessionEvents,
  StartWorker, ListWorkers, StopWorker, WorkerInput, ResizeWorker, GetWorkerScreen,
  SendChat, CancelChat, GetChatHistory, ApproveChat, GetMetricsStatus, FlushMetrics,
] as const;
