using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// A running worker: its PTY process and the path of its output into the event log. Runs on the
/// PTY read loop's thread (shared with other PTYs), so it only copies bytes into the writer's queue.
/// </summary>
internal sealed class LiveWorker : IPtyListener, IOutputSource
{
    private readonly StoreWriter _writer;
    private readonly Action<LiveWorker, PtyExit> _onExit;
    private readonly TimeProvider _clock;
    private readonly Action<LiveWorker, Exception>? _onFailure;
    private readonly object _gateLock = new();
    private readonly byte[] _partial = new byte[4];
    private List<byte[]>? _gated = [];
    private PtyExit? _pendingExit;
    private int _partialLength;
    private string _sessionId;

    public LiveWorker(WorkerRow row, StoreWriter writer, Action<LiveWorker, PtyExit> onExit, TimeProvider clock, Action<LiveWorker, Exception>? onFailure = null)
    {
        _onFailure = onFailure;
        _clock = clock;
        Row = row;
        _sessionId = row.SessionId;
        _writer = writer;
        _onExit = onExit;
    }

    public string Id => Row.Id;

    public string WorkerId => Row.Id;

    /// <summary>The session the worker's events go to now (a /clear moves workers to the next session, on the writer thread).</summary>
    public string SessionId { get => Volatile.Read(ref _sessionId); set => Volatile.Write(ref _sessionId, value); }

    public WorkerRow Row { get; set; }

    public PtyProcess? Process { get; set; }

    /// <summary>The live session the worker belongs to (the same object across /clear transitions).</summary>
    public LiveSession? Session { get; set; }

    /// <summary>What the user is typing into the worker (agents only: to see a clear command).</summary>
    public TypedLine? TypedLine { get; set; }

    /// <summary>When input was last typed into the worker (unix ms), by chat or by the user.</summary>
    public long LastInputAt { get; set; }

    /// <summary>When the worker last printed something (unix ms): a session with output is not idle.</summary>
    public long LastOutputAt => Volatile.Read(ref _lastOutputAt);

    private long _lastOutputAt;

    /// <summary>The worker's emulated terminal (fed from its committed output).</summary>
    public WorkerScreen? Screen { get; set; }

    /// <summary>Completes once the worker's exit is committed to the log.</summary>
    public TaskCompletionSource ExitRecorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts passing output to the log; output that came earlier is passed now, in order.</summary>
    public void Open()
    {
        PtyExit? exit;
        lock (_gateLock)
        {
            if (_gated is null)
            {
                return;
            }

            foreach (var chunk in _gated)
            {
                _writer.AppendOutput(this, chunk);
            }

            _gated = null;
            exit = _pendingExit;
            _pendingExit = null;
        }

        if (exit is { } e)
        {
            _onExit(this, e);
        }
    }

    public void OnOutput(ReadOnlySpan<byte> data)
    {
        Volatile.Write(ref _lastOutputAt, _clock.GetUtcNow().ToUnixTimeMilliseconds());
        // Problem: a read can end inside a UTF-8 sequence; decoding each part alone would make two
        // U+FFFD. Solution: hold the incomplete tail back until the next read completes it.
        if (_partialLength > 0)
        {
            var combined = new byte[_partialLength + data.Length];
            _partial.AsSpan(0, _partialLength).CopyTo(combined);
            data.CopyTo(combined.AsSpan(_partialLength));
            data = combined;
            _partialLength = 0;
        }

        var complete = CompleteLength(data);
        if (complete < data.Length)
        {
            data[complete..].CopyTo(_partial);
            _partialLength = data.Length - complete;
        }

        if (complete > 0)
        {
            Emit(data[..complete]);
        }
    }

    public void OnExit(PtyExit exit)
    {
        if (_partialLength > 0)
        {
            Emit(_partial.AsSpan(0, _partialLength));
            _partialLength = 0;
        }

        // Problem: a worker that exits at once (`true`) could report its exit before the spawn had
        // recorded it as started; the spawn then wrote "running" over "exited", for good (found by
        // the 1,000-spawn fault test). Solution: an exit before Open() waits for Open() to report it.
        lock (_gateLock)
        {
            if (_gated is not null)
            {
                _pendingExit = exit;
                return;
            }
        }

        _onExit(this, exit);
    }

    public void OnListenerFailed(Exception exception) => _onFailure?.Invoke(this, exception);

    /// <summary>The length of <paramref name="data"/> that ends on a UTF-8 character boundary.</summary>
    internal static int CompleteLength(ReadOnlySpan<byte> data)
    {
        var i = data.Length - 1;
        var continuation = 0;
        while (i >= 0 && continuation < 3 && (data[i] & 0xC0) == 0x80)
        {
            i--;
            continuation++;
        }

        if (i < 0)
        {
            return data.Length;
        }

        var lead = data[i];
        var needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return lead >= 0xC0 && lead < 0xF8 && continuation + 1 < needed ? i : data.Length;
    }

    private void Emit(ReadOnlySpan<byte> data)
    {
        if (_gated is not null)
        {
            lock (_gateLock)
            {
                if (_gated is not null)
                {
                    _gated.Add(data.ToArray());
                    return;
                }
            }
        }

        _writer.AppendOutput(this, data);
    }
}
