using System.Collections.Concurrent;
using AgentSidecar.Core.Events;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>Reading a session's event log: attachments (backlog then live, one cursor) and pages of stored events.</summary>
internal sealed class SessionEvents(SessionContext ctx)
{
    private readonly ConcurrentDictionary<string, Attachment> _attachments = new(StringComparer.Ordinal);
    private long _nextAttachId;

    /// <summary>
    /// Subscribes <paramref name="sink"/> to the session's events after <paramref name="afterSeq"/>.
    /// Call <see cref="Attachment.Start"/> once the caller is ready to receive them.
    /// </summary>
    public (Attachment Attachment, long LastSeq) Attach(string sessionId, long afterSeq, IReadOnlyCollection<string>? channels, IEventSink sink)
    {
        var (lastSeq, _, _, _) = State(sessionId);
        var id = $"a{Interlocked.Increment(ref _nextAttachId)}";
        var attachment = new Attachment(id, sessionId, afterSeq, channels, ctx.Store, ctx.Hub, sink, State);
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

    /// <summary>Ends the attachments of a deleted session.</summary>
    public void DetachAll(string sessionId, string reason)
    {
        foreach (var a in _attachments.Values.Where(a => a.SessionId == sessionId))
        {
            a.Stop(reason);
        }
    }

    /// <summary>Ends every attachment (shutdown).</summary>
    public void DetachAll(string reason)
    {
        foreach (var a in _attachments.Values)
        {
            a.Stop(reason);
        }
    }

    public (List<StoredEvent> Events, long LastSeq, bool HasMore) Read(string sessionId, long afterSeq, int limit, IReadOnlyCollection<string>? channels)
    {
        var (lastSeq, _, _, _) = State(sessionId);
        var events = ctx.Store.ReadEvents(sessionId, afterSeq, limit + 1, channels);
        var hasMore = events.Count > limit;
        if (hasMore)
        {
            events.RemoveAt(events.Count - 1);
        }

        return (events, lastSeq, hasMore);
    }

    /// <summary>The head of a session's log, whether it runs here, and the session that follows it after a clear.</summary>
    private (long LastSeq, bool Live, string? Next, bool Running) State(string sessionId)
    {
        if (ctx.Registry.TryGet(sessionId, out var live))
        {
            return (ctx.Hub.TryGet(sessionId)?.CommittedSeq ?? live.Row.LastSeq, true, null, true);
        }

        var row = ctx.GetRow(sessionId);
        return (row.LastSeq, false, row.TransitionedTo, SessionStatuses.IsRunning(row.Status));
    }
}
