using System.Collections.Concurrent;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Events;

/// <summary>
/// Fans committed events out to attachments. Each session has a <see cref="SessionStream"/>: the
/// newest committed seq, a ring of recent events (so live readers rarely touch SQLite) and a signal.
/// Readers pull by cursor, so there is nothing per attachment to overflow and no gap or duplicate
/// can arise between backlog and live.
/// </summary>
public sealed class EventHub
{
    private readonly ConcurrentDictionary<string, SessionStream> _streams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    public EventHub(StoreWriter writer) => writer.Committed += OnCommitted;

    /// <summary>The stream of <paramref name="sessionId"/>, created with <paramref name="lastSeq"/> as its head.</summary>
    public SessionStream Stream(string sessionId, long lastSeq)
    {
        var stream = _streams.GetOrAdd(sessionId, static (id, seq) => new SessionStream(id, seq), lastSeq);
        if (_waiters.TryRemove(sessionId, out var waiting))
        {
            waiting.TrySetResult();
        }

        return stream;
    }

    /// <summary>Completes when the session gets a stream here (it starts or resumes in this sidecar).</summary>
    public Task WhenStreamAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (_streams.ContainsKey(sessionId))
        {
            return Task.CompletedTask;
        }

        var waiting = _waiters.GetOrAdd(sessionId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return _streams.ContainsKey(sessionId) ? Task.CompletedTask : waiting.Task.WaitAsync(cancellationToken);
    }

    public SessionStream? TryGet(string sessionId) => _streams.GetValueOrDefault(sessionId);

    public void Remove(string sessionId) => _streams.TryRemove(sessionId, out _);

    private void OnCommitted(IReadOnlyList<StoredEvent> events)
    {
        // Publish every event, then wake each touched stream's readers once per batch.
        var touched = new List<SessionStream>();
        SessionStream? current = null;
        foreach (var e in events)
        {
            if (current?.SessionId != e.SessionId)
            {
                current = _streams.GetValueOrDefault(e.SessionId);
                if (current is not null && !touched.Contains(current))
                {
                    touched.Add(current);
                }
            }

            current?.Publish(e);
        }

        foreach (var stream in touched)
        {
            stream.Signal();
        }
    }
}

/// <summary>One session's committed head, recent events, and wake-up signal.</summary>
public sealed class SessionStream(string sessionId, long lastSeq)
{
    /// <summary>Recent events kept in memory for live readers: a few MB per busy session at most.</summary>
    private const int RingCapacity = 1024;
    private const long RingMaxBytes = 8L * 1024 * 1024;

    private readonly object _lock = new();
    private readonly Queue<StoredEvent> _ring = new();
    private long _ringBytes;
    private long _committedSeq = lastSeq;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _signalPending;

    public string SessionId { get; } = sessionId;

    public long CommittedSeq => Interlocked.Read(ref _committedSeq);

    /// <summary>Completes the next time a commit moves the head past <paramref name="cursor"/> (or at once).</summary>
    public Task WaitAfterAsync(long cursor, CancellationToken cancellationToken)
    {
        Task next;
        lock (_lock)
        {
            next = _next.Task;
        }

        return CommittedSeq > cursor ? Task.CompletedTask : next.WaitAsync(cancellationToken);
    }

    /// <summary>Events after <paramref name="cursor"/> from memory, or null when the ring does not reach back that far.</summary>
    public List<StoredEvent>? TryRead(long cursor, int max)
    {
        lock (_lock)
        {
            if (_ring.Count == 0)
            {
                return cursor >= CommittedSeq ? [] : null;
            }

            var first = _ring.Peek().Seq;
            if (cursor + 1 < first)
            {
                return null;
            }

            var result = new List<StoredEvent>();
            foreach (var e in _ring)
            {
                if (e.Seq > cursor)
                {
                    result.Add(e);
                    if (result.Count >= max)
                    {
                        break;
                    }
                }
            }

            return result;
        }
    }

    /// <summary>Wakes readers without a new event (e.g. the session ended).</summary>
    public void Wake()
    {
        lock (_lock)
        {
            _signalPending = true;
        }

        Signal();
    }

    internal void Publish(StoredEvent e)
    {
        lock (_lock)
        {
            if (_ring.Count > 0 && e.Seq != _committedSeq + 1)
            {
                // Another sidecar on the data directory wrote events in between: the ring must not
                // pretend to hold them; readers behind this event read them from the log.
                _ring.Clear();
                _ringBytes = 0;
            }

            _ring.Enqueue(e);
            _ringBytes += e.Data.Length;
            while (_ring.Count > RingCapacity || _ringBytes > RingMaxBytes)
            {
                _ringBytes -= _ring.Dequeue().Data.Length;
            }

            Interlocked.Exchange(ref _committedSeq, e.Seq);
            _signalPending = true;
        }
    }

    internal void Signal()
    {
        TaskCompletionSource? toComplete = null;
        lock (_lock)
        {
            if (_signalPending)
            {
                _signalPending = false;
                toComplete = _next;
                _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        toComplete?.TrySetResult();
    }
}
