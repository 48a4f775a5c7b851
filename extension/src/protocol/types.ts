// Wire types of protocol v1 (docs/protocol.md). Null fields are omitted on the wire, hence `?`.

export type SessionStatus = 'created' | 'active' | 'suspended' | 'completed' | 'failed';

export interface Worker {
  id: string;
  sessionId: string;
  kind: 'agent' | 'terminal';
  name: string;
  status: 'running' | 'exited';
  pid?: number;
  exitCode?: number;
  signal?: number;
  cols: number;
  rows: number;
  command?: string;
  args?: string[];
  cwd?: string;
}

export interface Session {
  id: string;
  workspace: string;
  provider: string;
  kind: string;
  status: SessionStatus;
  statusReason?: string;
  title?: string;
  taskId?: string;
  model?: string;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  transitionedFrom?: string;
  transitionedTo?: string;
  agentSessionId?: string;
  busy: boolean;
  lastSeq: number;
  owner?: { pid: number; startTime?: number; socket?: string };
  workers: Worker[];
}

export interface SessionEvent {
  sessionId: string;
  seq: number;
  ts: string;
  channel: 'pty' | 'chat' | 'system' | 'metrics' | string;
  type: string;
  workerId?: string;
  data: Record<string, unknown>;
}

export interface ProviderInfo {
  id: string;
  displayName: string;
  available: boolean;
  command: string;
  resolvedPath?: string;
  version?: string;
  reason?: string;
  features: string[];
}

export interface InitializeResult {
  protocolVersion: string;
  serverInfo: { name: string; version: string; socket?: string; pid?: number; dataDir?: string };
  capabilities: { methods: string[]; channels: string[]; maxMessageBytes?: number; maxInputBytes?: number };
  providers: ProviderInfo[];
}

export interface ChatHistoryMessage {
  turnId: string;
  role: 'user' | 'assistant';
  text: string;
  ts: string;
  sessionId?: string;
}

export interface ChatSendResult {
  turnId: string;
  status: 'completed' | 'cancelled' | 'failed';
  text: string;
  durationMs: number;
  sessionId?: string;
  reason?: string;
}

export interface ScreenResult {
  cols: number;
  rows: number;
  lines: string[];
  cursor: { row: number; col: number };
  alternateScreen?: boolean;
  ansi: string;
  seq: number;
}

export interface AttachResult { attachId: string; lastSeq: number }
export interface SessionEventNotification { attachId: string; event: SessionEvent }
export interface SessionChangedNotification { session: Session }
export interface SessionTransitionedNotification { previous: Session; current: Session }
export interface SessionDetachedNotification { attachId: string; reason: 'overflow' | 'deleted' | 'error' | string; lastSeq: number; sessionId?: string }

export interface StartSessionParams {
  workspace: string;
  provider?: string;
  model?: string;
  taskId?: string;
  kind?: string;
  title?: string;
  reuse?: boolean;
  cols?: number;
  rows?: number;
}

export interface MetricsFlushResult { sent: number; pending: number }
export interface ResetResult { ended: string[] }

/**
 * A session's id as shown to people: its last 8 hex digits. Ids start with their creation time, so
 * the first 8 are the same for every session of a day; the last ones are random.
 */
export function shortId(id: string): string {
  return id.slice(-8);
}
