using AgentSidecar.Store;

namespace AgentSidecar.Core.Events;

/// <summary>Where an attachment's events go (the host: a client connection).</summary>
public interface IEventSink
{
    /// <summary>
    /// Delivers events in order and returns how many it delivered; fewer than given means the
    /// client cannot keep up (the attachment ends with "overflow" after the delivered ones).
    /// </summary>
    ValueTask<int> DeliverAsync(IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken);
}

public static class DetachReasons
{
    public const string Detached = "detached";
    public const string Overflow = "overflow";
    public const string Closed = "closed";
    public const string Deleted = "deleted";
    public const string Error = "error";
}

/// <summary>
/// One client's subscription to a session: a cursor that pulls committed events in seq order,
/// from memory when recent and from SQLite when not, backlog and live alike. After a session
/// that was cleared, it follows the chain into the next session (each event names its session).
/// </summary>
// A CancellationTokenSource without a timer holds nothing that needs disposing; Stop() may come
// after the pump ended, so it is never disposed.
#pragma warning disable CA1001
public sealed class Attachment
#pragma warning restore CA1001
{
    /// <summary>Events per delivery: large enough for throughput, small enough to interleave clients.</summary>
    private const int PageSize = 512;

    /// <summary>
    /// Events per read of the backlog from SQLite, and the data bytes that end a read early: each
    /// read costs a pooled connection and a statement, so a replay reads big pages.
    /// </summary>
    private const int StorePageSize = 4096;

    private const long StorePageBytes = 4L * 1024 * 1024;

    /// <summary>
    /// Pages read from the log and not yet delivered, across all attachments: the memory replays
    /// can take is bounded (16 × 4 MiB) however many clients replay at once; the others wait their
    /// turn. Pages from the in-memory ring are not counted (they are there anyway).
    /// </summary>
    private static readonly SemaphoreSlim StorePages = new(16, 16);

    private readonly SidecarStore _store;
    private readonly EventHub _hub;
    private readonly IEventSink _sink;
    private readonly Func<string, (long LastSeq, bool Live, string? Next, bool Running)> _sessionState;
    private readonly HashSet<string>? _channels;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _cursor;
    private string? _stopReason;

    internal Attachment(string id, string sessionId, long afterSeq, IReadOnlyCollection<string>? channels, SidecarStore store, EventHub hub, IEventSink sink, Func<string, (long, bool, string?, bool)> sessionState)
    {
        Id = id;
        SessionId = sessionId;
        _cursor = afterSeq;
        _channels = channels is { Count: > 0 } ? new HashSet<string>(channels, StringComparer.Ordinal) : null;
        _store = store;
        _hub = hub;
        _sink = sink;
        _sessionState = sessionState;
    }

    public string Id { get; }

    /// <summary>The session being read now (changes when the attachment follows a /clear chain).</summary>
    public string SessionId { get; private set; }

    /// <summary>The seq of the last event delivered (or skipped by the channel filter).</summary>
    public long Cursor => Interlocked.Read(ref _cursor);

    /// <summary>What ended the attachment with <c>error</c>, if that is how it ended.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Completes with the reason the attachment ended.</summary>
    public Task<string> Ended => _ended.Task;

    public void Start() => _ = Task.Run(RunAsync);

    public void Stop(string reason)
    {
        _stopReason ??= reason;
        _stop.Cancel();
    }

    private async Task RunAsync()
    {
        var reason = DetachReasons.Closed;
        try
        {
            reason = await PumpAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            reason = _stopReason ?? DetachReasons.Closed;
        }
        catch (Exception ex)
        {
            Failure = ex;
            reason = DetachReasons.Error;
        }
        finally
        {
            _ended.TrySetResult(reason);
        }
    }

    private async Task<string> PumpAsync(CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var (lastSeq, live, next, running) = _sessionState(SessionId);
            var stream = live ? _hub.Stream(SessionId, lastSeq) : _hub.TryGet(SessionId);
            var cursor = Cursor;
            var page = stream?.TryRead(cursor, PageSize);
            var fromStore = page is null || (page.Count == 0 && lastSeq > cursor);
            if (fromStore)
            {
                await StorePages.WaitAsync(ct).ConfigureAwait(false);
            }

            int delivered;
            List<StoredEvent> deliver;
            try
            {
                if (fromStore)
                {
                    page = _store.ReadEvents(SessionId, cursor, StorePageSize, null, StorePageBytes);
                }

                deliver = _channels is null ? page! : page!.FindAll(e => _channels.Contains(e.Channel));
                delivered = deliver.Count == 0 ? 0 : await _sink.DeliverAsync(deliver, ct).ConfigureAwait(false);
            }
            finally
            {
                if (fromStore)
                {
                    StorePages.Release();
                }
            }

            if (page!.Count > 0)
            {
                if (delivered < deliver.Count)
                {
                    // The cursor is the last event the client has: re-attaching from it loses and repeats nothing.
                    if (delivered > 0)
                    {
                        Interlocked.Exchange(ref _cursor, deliver[delivered - 1].Seq);
                    }

                    return DetachReasons.Overflow;
                }

                Interlocked.Exchange(ref _cursor, page[^1].Seq);
                continue;
            }

            if (next is not null)
            {
                // Caught up with a session that was cleared: go on with the next one from its start.
                SessionId = next;
                Interlocked.Exchange(ref _cursor, 0);
                continue;
            }

            if (stream is null)
            {
                // Not live here. Running in another sidecar on the data directory: its events come
                // only through the log, looked at twice a second. Not running anywhere: nothing
                // comes until it is resumed, which here wakes this at once (and elsewhere is seen
                // within seconds). Problem: every idle attachment read the session's row twice a
                // second, and 10,000 of them slowed keystroke echo in every session to 0.8 s.
                await (running
                    ? Task.Delay(TimeSpan.FromMilliseconds(500), ct)
                    : Task.WhenAny(_hub.WhenStreamAsync(SessionId, ct), Task.Delay(TimeSpan.FromSeconds(10), ct))).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                continue;
            }

            await stream.WaitAfterAsync(cursor, ct).ConfigureAwait(false);
        }
    }
}
