// The chat's history as the sidecar's event log has it: every chat event of a session (messages,
// deltas, turns, tool calls, approvals, plans), read page by page with session/events. The panel
// rebuilds itself from them with the reducer's own steps, so a reload shows what streaming showed,
// each tool call and approval as its latest event left it.
import { SessionEvent, parseEventEnvelope, parseSessionEvent } from '../protocol/events';
import type { GetSessionEvents } from '../protocol/methods';

/** The most session/events allows per call. */
export const eventsPageSize = 10000;

export type ReadEvents = (params: GetSessionEvents.Params) => Promise<GetSessionEvents.Result>;

/**
 * The session's chat events after `range.after` (default: all) up to `range.upTo` (the seq after
 * which a live attachment takes over, so no event is shown twice), oldest first. Unknown events are
 * skipped; a malformed one is reported to `onMalformed` and skipped, like a live one.
 */
export async function readChatEvents(read: ReadEvents, sessionId: string, range: { after?: number; upTo: number }, onMalformed: (message: string) => void = () => undefined): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  const upTo = range.upTo;
  let after = range.after ?? 0;
  while (after < upTo) {
    const page = await read({ sessionId, afterSeq: after, limit: eventsPageSize, channels: ['chat'] });
    for (const raw of page.events) {
      const seq = parseEventEnvelope(raw).seq;
      if (seq > upTo) return events;
      after = seq;
      try {
        const event = parseSessionEvent(raw);
        if (event) events.push(event);
      } catch (err) {
        onMalformed((err as Error).message);
      }
    }
    if (!page.hasMore || page.events.length === 0) break;
  }
  return events;
}
