using AgentSidecar.Core.Events;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

public sealed partial class SessionManager
{
    /// <summary>
    /// Subscribes <paramref name="sink"/> to the session's events after <paramref name="afterSeq"/>.
    /// Call <see cref="Attachment.Start"/> once the caller is ready to receive them.
    /// </summary>
    public (Attachment Attachment, long LastSeq) Attach(string sessionId, long afterSeq, IReadOnlyCollection<string>? channels, IEventSink sink)
    {
        var (lastSeq, _, _) = SessionState(sessionId);
        var id = $"a{Interlocked.Increment(ref _nextAttachId)}";
        var attachment = new Attachment(id, sessionId, afterSeq, channels, _store, _hub, sink, SessionState);
        _attachments[id] = attachment;
        _ = attachment.Ended.ContinueWith(_ => _attachments.TryRemove(id, out var _), TaskScheduler.Default);
        return (attachment, lastSeq);
    }

    public bool Detach(string attachId)
    {
        if (!_attachments.TryGetValue(attachId, out var a))
        {
            return false;
        }

        a.Stop(DetachReasons.Detached);
        return true;
    }

    public (List<StoredEvent> Events, long LastSeq, bool HasMore) ReadEvents(string sessionId, long afterSeq, int limit, IReadOnlyCollection<string>? channels)
    {
        var (lastSeq, _, _) = SessionState(sessionId);
        var events = _store.ReadEvents(sessionId, afterSeq, limit + 1, channels);
        var hasMore = events.Count > limit;
        if (hasMore)
        {
            events.RemoveAt(events.Count - 1);
        }

        return (events, lastSeq, hasMore);
    }

    /// <summary>The head of a session's log, whether it runs here, and the session that follows it after a clear.</summary>
    private (long LastSeq, bool Live, string? Next) SessionState(string sessionId)
    {
        if (_live.TryGetValue(sessionId, out var live))
        {
            return (_hub.TryGet(sessionId)?.CommittedSeq ?? live.Row.LastSeq, true, null);
        }

        var row = GetRow(sessionId);
        return (row.LastSeq, false, row.TransitionedTo);
    }
}
