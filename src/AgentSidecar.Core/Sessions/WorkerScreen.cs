using System.Text.Json;
using AgentSidecar.Core.Events;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Vt;

namespace AgentSidecar.Core.Sessions;

/// <summary>A consistent copy of a worker's screen and the seq of the last event it includes.</summary>
public sealed record ScreenSnapshot(int Cols, int Rows, IReadOnlyList<string> Lines, int CursorRow, int CursorCol, bool AlternateScreen, string Ansi, long Seq, IReadOnlyList<string> Scrollback);

/// <summary>
/// A worker's emulated terminal, fed from the worker's committed events (an attachment like any
/// client's): the screen at seq N is exactly what a client replaying to N would see, so a reopened
/// terminal can draw the screen and then stream from N on. Observers (the chat controller) get OSC
/// marks and a callback after each batch.
/// </summary>
internal sealed class WorkerScreen : IEventSink
{
    private readonly object _lock = new();
    private readonly VtScreen _screen;
    /// <summary>How many recent OSC marks are kept for late subscribers.</summary>
    private const int RecentOscCapacity = 32;

    private readonly string _workerId;
    private readonly Queue<(int Code, string Payload)> _recentOsc = new();
    private long _seq;

    public WorkerScreen(string workerId, int cols, int rows)
    {
        _workerId = workerId;
        _screen = new VtScreen(cols, rows);
        _screen.OscReceived += (code, payload) =>
        {
            _recentOsc.Enqueue((code, payload));
            if (_recentOsc.Count > RecentOscCapacity)
            {
                _recentOsc.Dequeue();
            }

            // A subscriber's failure (a pattern that timed out) must not stop the screen: it is
            // counted and the next mark is handled as usual.
            try
            {
                OscReceived?.Invoke(code, payload);
            }
            catch (Exception ex) when (ex is System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                Interlocked.Increment(ref _failedOscHandlers);
            }
        };
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to OSC marks, first replaying the recent ones: an agent
    /// may announce "ready" before anyone listens.
    /// </summary>
    public void SubscribeOsc(Action<int, string> handler)
    {
        lock (_lock)
        {
            foreach (var (code, payload) in _recentOsc)
            {
                handler(code, payload);
            }

            OscReceived += handler;
        }
    }

    private int _failedOscHandlers;

    /// <summary>How many OSC marks a subscriber failed to handle (its pattern timed out).</summary>
    public int FailedOscHandlers => Volatile.Read(ref _failedOscHandlers);

    /// <summary>Raised while feeding (under the screen's lock) for each OSC sequence.</summary>
    public event Action<int, string>? OscReceived;

    /// <summary>Raised after each delivered batch that touched this worker.</summary>
    public event Action? Updated;

    public Attachment? Attachment { get; set; }

    public long Seq => Interlocked.Read(ref _seq);

    public ValueTask<int> DeliverAsync(IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken)
    {
        var touched = false;
        lock (_lock)
        {
            foreach (var e in events)
            {
                if (e.WorkerId != _workerId || e.Channel != "pty")
                {
                    continue;
                }

                touched = true;
                if (e.Type == "output")
                {
                    FeedOutput(e.Data);
                }
                else if (e.Type == "resize")
                {
                    using var doc = JsonDocument.Parse(e.Data);
                    _screen.Resize(doc.RootElement.GetProperty("cols").GetInt32(), doc.RootElement.GetProperty("rows").GetInt32());
                }
            }

            if (events.Count > 0)
            {
                Interlocked.Exchange(ref _seq, events[^1].Seq);
            }
        }

        if (touched)
        {
            Updated?.Invoke();
        }

        return ValueTask.FromResult(events.Count);
    }

    /// <summary>
    /// Feeds the "data" string of a stored output event as UTF-8. Problem: parsing it into a string
    /// and encoding it back was a fifth of the screen's cost in a flood (profiled). Solution: read
    /// the JSON string's UTF-8 bytes, unescaped into a pooled buffer only when it has escapes.
    /// </summary>
    private void FeedOutput(byte[] data)
    {
        var reader = new Utf8JsonReader(data);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("data"u8))
            {
                continue;
            }

            reader.Read();
            if (!reader.ValueIsEscaped)
            {
                _screen.Feed(reader.ValueSpan);
                return;
            }

            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
            try
            {
                var length = reader.CopyString(buffer);
                _screen.Feed(buffer.AsSpan(0, length));
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            return;
        }
    }

    public ScreenSnapshot Snapshot(bool withAnsi = true)
    {
        lock (_lock)
        {
            var (row, col) = _screen.Cursor;
            return new ScreenSnapshot(_screen.Cols, _screen.Rows, _screen.GetLines().ToList(), row, col, _screen.AlternateScreen, withAnsi ? _screen.RenderAnsi() : string.Empty, _seq, _screen.Scrollback.ToList());
        }
    }

    /// <summary>The screen's text (scrollback tail and visible lines) for pattern matching.</summary>
    public string Text(int scrollbackLines = 0)
    {
        lock (_lock)
        {
            var lines = _screen.Scrollback.Skip(Math.Max(0, _screen.Scrollback.Count - scrollbackLines)).Concat(_screen.GetLines());
            return string.Join('\n', lines);
        }
    }
}
