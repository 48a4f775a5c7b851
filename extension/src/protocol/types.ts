// Wire types of protocol v1 (docs/protocol.md) that several methods share; each method's own params
// and result are in methods.ts, events in events.ts. Null fields are omitted on the wire, hence `?`.

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
  /** While busy: what the session waits for (`approval`: a prompt waits for the user's answer). */
  waiting?: string;
  lastSeq: number;
  owner?: { pid: number; startTime?: number; socket?: string };
  /** Worktree sessions only. */
  worktree?: WorktreeInfo;
  workers: Worker[];
}

/** `state`: `active`, `moved` (the session after a /clear has it), `removed` or `kept` (with the reason). */
export interface WorktreeInfo { path: string; branch?: string; state: string; reason?: string }

export interface ProviderInfo {
  id: string;
  displayName: string;
  available: boolean;
  command: string;
  resolvedPath?: string;
  version?: string;
  reason?: string;
  features: string[];
  /** Models to offer (the profile's `models`); the agent takes others too. */
  models?: string[];
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
  /** `cleared`: the text was the provider's clear command; the session moved on (no turn). */
  status: 'completed' | 'cancelled' | 'failed' | 'cleared';
  text: string;
  durationMs: number;
  /** The session the turn ended in; for `cleared`, the new session. */
  sessionId?: string;
  reason?: string;
  /** For `cleared`: the session the clear ended. */
  previousSessionId?: string;
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

/**
 * A session's id as shown to people: its last 8 hex digits. Ids start with their creation time, so
 * the first 8 are the same for every session of a day; the last ones are random.
 */
export function shortId(id: string): string {
  return id.slice(-8);
}
