// What the Sessions view shows, without `vscode` (unit-tested): sessions grouped into conversations
// (a /clear ends a session and starts the next one linked to it, `transitionedFrom`/`transitionedTo`;
// the whole chain is one conversation, shown as its newest session), and the words for a session's
// kind, worktree and workers.
import { Session, Worker, shortId } from '../protocol/types';

/** One /clear chain: `head` is its newest session (the live one, if any); `earlier` newest first. */
export interface Conversation {
  head: Session;
  earlier: Session[];
}

/**
 * Groups `sessions` (newest first, as session/list gives them) into conversations, newest first.
 * A session belongs to the conversation of the session it was cleared into (`transitionedTo`) when
 * that one is in the list too; one whose successor is missing (deleted, or beyond the page) heads
 * its own. `earlier` holds only what the list has: loadEarlier() reads the rest.
 */
export function groupConversations(sessions: readonly Session[]): Conversation[] {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const headOf = (s: Session): Session => {
    const seen = new Set<string>();
    let at = s;
    // `seen` guards against a cycle in a damaged log; a chain never has one.
    while (at.transitionedTo && byId.has(at.transitionedTo) && !seen.has(at.id)) {
      seen.add(at.id);
      at = byId.get(at.transitionedTo)!;
    }
    return at;
  };
  const conversations = new Map<string, Conversation>();
  for (const s of sessions) {
    const head = headOf(s);
    let c = conversations.get(head.id);
    if (!c) conversations.set(head.id, (c = { head, earlier: [] }));
    if (s !== head) c.earlier.push(s);
  }
  const newest = (a: Session, b: Session) => b.createdAt.localeCompare(a.createdAt);
  for (const c of conversations.values()) c.earlier.sort(newest);
  // Newest first by the head's start: the conversation the user worked in last is on top.
  return [...conversations.values()].sort((a, b) => newest(a.head, b.head));
}

/**
 * The whole chain behind `head`, newest first: the sessions of `known` first, then read one by one
 * (`get`) following `transitionedFrom`, at most `max`. A session that cannot be read ends the chain.
 */
export async function loadEarlier(head: Session, known: readonly Session[], get: (id: string) => Promise<Session | undefined>, max = 200): Promise<Session[]> {
  const byId = new Map(known.map((s) => [s.id, s]));
  const chain: Session[] = [];
  let from = head.transitionedFrom;
  while (from && chain.length < max && !chain.some((s) => s.id === from)) {
    const s = byId.get(from) ?? (await get(from));
    if (!s) break;
    chain.push(s);
    from = s.transitionedFrom;
  }
  return chain;
}

/** `shell`, or `agent · codex`: what runs in the session. */
export function kindLabel(s: Pick<Session, 'provider'>): string {
  return s.provider === 'shell' ? 'shell' : `agent · ${s.provider}`;
}

/** `⎇ agent-sidecar/1a2b3c4d` for a worktree session (with what became of the worktree once it is not active). */
export function worktreeLabel(s: Pick<Session, 'worktree'>): string | undefined {
  const wt = s.worktree;
  if (!wt) return undefined;
  const branch = wt.branch ?? wt.path;
  return wt.state === 'active' ? `⎇ ${branch}` : `⎇ ${branch} (${wt.state})`;
}

/** A session row's label: its title, else its task id, else its provider. */
export function sessionLabel(s: Session): string {
  return s.title ?? s.taskId ?? s.provider;
}

/**
 * A session row's description: kind (the provider too when the label is a title or task id), model,
 * worktree branch, state, short id. `codex` → `agent · …`; `JIRA-1` → `agent · codex · …`.
 */
export function sessionDescription(s: Session, state: string): string {
  const named = sessionLabel(s) !== s.provider;
  const kind = named ? kindLabel(s) : s.provider === 'shell' ? undefined : 'agent';
  return [kind, s.model, worktreeLabel(s), state, shortId(s.id)].filter(Boolean).join(' · ');
}

/**
 * A worker row: its name, and what it is and how it runs (`agent · running · pid 123`,
 * `terminal · exited (code 2)`). A shell session's main process is its shell, not an agent.
 */
export function workerLabel(w: Worker, provider: string): { label: string; description: string } {
  const role = w.kind === 'terminal' ? 'terminal' : provider === 'shell' ? 'shell' : 'agent';
  let how: string;
  if (w.status === 'running') how = w.pid ? `running · pid ${w.pid}` : 'running';
  else if (w.signal !== undefined && w.signal !== null) how = `exited (signal ${w.signal})`;
  else if (w.exitCode !== undefined && w.exitCode !== null) how = `exited (code ${w.exitCode})`;
  else how = 'exited';
  return { label: w.name || role, description: `${role} · ${how}` };
}

/** The session line of a conversation's history: when it started, and how it ended. */
export function earlierLabel(s: Session): string {
  return s.statusReason === 'clear' ? 'cleared' : s.statusReason ? `${s.status} (${s.statusReason})` : s.status;
}
