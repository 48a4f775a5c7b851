using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace AgentSidecar.Store;

/// <summary>Where PTY output comes from: read when the output is written, not when it is queued.</summary>
public interface IOutputSource
{
    string SessionId { get; }

    string WorkerId { get; }
}

/// <summary>
/// The one writer. A dedicated thread takes everything queued, runs it in one transaction
/// (group commit: while one batch commits the next one gathers), and only after the commit hands
/// the new events to <see cref="Committed"/>. PTY output queued back to back for the same worker is
/// merged into one event (bounded by <see cref="MaxOutputEventBytes"/>), so a flood makes few rows.
/// </summary>
public sealed class StoreWriter : IDisposable
{
    /// <summary>Largest merged output event: big enough for few rows, small enough to stream smoothly.</summary>
    public const int MaxOutputEventBytes = 64 * 1024;

    /// <summary>Upper bound of one batch, so one commit never holds clients back for long.</summary>
    private const int MaxBatchItems = 4096;
    private const long MaxBatchBytes = 16L * 1024 * 1024;

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SidecarStore _store;
    private readonly TimeProvider _clock;
    private readonly object _lock = new();
    private readonly Queue<WriteItem> _queue = new();
    private readonly Dictionary<string, long> _lastSeq = new(StringComparer.Ordinal);
    private readonly Thread _thread;
    private readonly List<StoredEvent> _committed = [];
    private readonly Dictionary<string, PendingOutput> _pendingOutput = new(StringComparer.Ordinal);
    private readonly Dictionary<(string SessionId, string WorkerId), long> _lostOutput = [];
    private string? _lostReason;
    private SqliteConnection? _connection;
    private SqliteCommand? _insertEvent;
    private bool _stopping;
    private readonly Thread _checkpointer;
    private readonly ManualResetEventSlim _checkpointerStop = new();
    private long _commits;

    /// <summary>How long a batch waits for another process's write lock before it fails (past SQLite's own 5 s busy wait).</summary>
    private static readonly TimeSpan WriteLockBound = TimeSpan.FromSeconds(30);

    /// <summary>How often the checkpointer looks for committed work (see <see cref="RunCheckpoints"/>).</summary>
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Raised (on the checkpointer thread) when a checkpoint fails; the log stays in the WAL, nothing is lost.</summary>
    public event Action<Exception>? CheckpointFailed;

    public StoreWriter(SidecarStore store, TimeProvider clock)
    {
        _store = store;
        _clock = clock;
        _thread = new Thread(Run) { IsBackground = true, Name = "store-writer" };
        _thread.Start();
        _checkpointer = new Thread(RunCheckpoints) { IsBackground = true, Name = "store-checkpoint" };
        _checkpointer.Start();
    }

    /// <summary>Called on the writer thread after each commit with the batch's events, in commit (= seq) order.</summary>
    public event Action<IReadOnlyList<StoredEvent>>? Committed;

    /// <summary>Called when a whole batch failed to commit (disk full, read-only database).</summary>
    public event Action<Exception>? CommitFailed;

    /// <summary>
    /// Queues PTY output for a worker; it becomes (part of) a <c>pty/output</c> event of the session
    /// the source names when the writer writes it. Problem: a worker can move to another session
    /// (a /clear) while its output waits in the queue. Solution: the move happens on the writer
    /// thread, inside the transition's transaction, and output is attributed at write time, so no
    /// output lands in the old session after its last event.
    /// </summary>
    public void AppendOutput(IOutputSource source, ReadOnlySpan<byte> utf8)
    {
        Enqueue(new WriteItem(source, utf8.ToArray(), null, null));
    }

    /// <summary>Runs <paramref name="mutation"/> in the next transaction; completes after the commit.</summary>
    public Task<T> WriteAsync<T>(Func<WriteContext, T> mutation)
    {
        var tcs = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new WriteItem(null, null, ctx => mutation(ctx), tcs));
        return Cast<T>(tcs.Task);
    }

    public Task<StoredEvent> AppendAsync(EventDraft draft) => WriteAsync(ctx => ctx.Append(draft));

    /// <summary>Completes when everything queued before it is committed.</summary>
    public Task FlushAsync() => WriteAsync<object?>(_ => null);

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }

        _thread.Join();
        _checkpointerStop.Set();
        _checkpointer.Join();
        _checkpointerStop.Dispose();
        _insertEvent?.Dispose();
        _connection?.Dispose();
    }

    internal void ForgetSession(string sessionId) => _lastSeq.Remove(sessionId);

    internal StoredEvent AppendInTransaction(WriteContext ctx, EventDraft draft)
    {
        var seq = NextSeq(ctx, draft.SessionId);
        var cmd = _insertEvent!;
        cmd.Transaction = ctx.Transaction;
        cmd.Parameters[0].Value = draft.SessionId;
        cmd.Parameters[1].Value = seq;
        cmd.Parameters[2].Value = ctx.Now;
        cmd.Parameters[3].Value = draft.Channel;
        cmd.Parameters[4].Value = draft.Type;
        cmd.Parameters[5].Value = (object?)draft.WorkerId ?? DBNull.Value;
        cmd.Parameters[6].Value = draft.Data;
        cmd.ExecuteNonQuery();
        _lastSeq[draft.SessionId] = seq;
        var stored = new StoredEvent(draft.SessionId, seq, ctx.Now, draft.Channel, draft.Type, draft.WorkerId, draft.Data);
        _committed.Add(stored);
        return stored;
    }

    private static async Task<T> Cast<T>(Task<object?> task) => (T)(await task.ConfigureAwait(false))!;

    private void Enqueue(WriteItem item)
    {
        lock (_lock)
        {
            if (_stopping)
            {
                item.Completion?.TrySetException(new ObjectDisposedException(nameof(StoreWriter), "the store is closed"));
                return;
            }

            _queue.Enqueue(item);
            if (_queue.Count == 1)
            {
                Monitor.Pulse(_lock);
            }
        }
    }

    private long NextSeq(WriteContext ctx, string sessionId)
    {
        if (!_lastSeq.TryGetValue(sessionId, out var last))
        {
            using var c = ctx.Command("SELECT last_seq FROM sessions WHERE id = $id");
            c.Parameters.AddWithValue("$id", sessionId);
            last = c.ExecuteScalar() is long l ? l : throw new InvalidOperationException($"session {sessionId} does not exist");
        }

        return last + 1;
    }

    private void Run()
    {
        _connection = _store.OpenWriterConnection();
        _insertEvent = _connection.CreateCommand();
        _insertEvent.CommandText = "INSERT INTO events (session_id, seq, ts, channel, type, worker_id, data) VALUES ($s, $q, $t, $c, $y, $w, $d)";
        foreach (var name in new[] { "$s", "$q", "$t", "$c", "$y", "$w", "$d" })
        {
            _insertEvent.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        var batch = new List<WriteItem>();
        while (true)
        {
            lock (_lock)
            {
                while (_queue.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_lock);
                }

                if (_queue.Count == 0)
                {
                    return;
                }

                long bytes = 0;
                while (_queue.Count > 0 && batch.Count < MaxBatchItems && bytes < MaxBatchBytes)
                {
                    var item = _queue.Dequeue();
                    bytes += item.Output?.Length ?? 256;
                    batch.Add(item);
                }
            }

            ProcessBatch(batch);
            batch.Clear();
        }
    }

    /// <summary>
    /// Checkpoints the WAL a few times a second while commits come in (the writer's connection
    /// never does, see <see cref="SidecarStore.OpenWriterConnection"/>). PASSIVE: it copies what no
    /// reader still needs and never blocks the writer; the next commit after a complete one
    /// starts the WAL over.
    /// </summary>
    private void RunCheckpoints()
    {
        SqliteConnection? connection = null;
        long seen = 0;
        string? reported = null;
        var reportedAt = 0L;
        try
        {
            while (!_checkpointerStop.Wait(CheckpointInterval))
            {
                var commits = Interlocked.Read(ref _commits);
                if (commits == seen)
                {
                    continue;
                }

                seen = commits;
                try
                {
                    connection ??= _store.OpenConnection();
                    SidecarStore.CheckpointPassive(connection);
                    reported = null;
                }
                catch (Exception ex) when (ex is SqliteException or IOException or InvalidOperationException)
                {
                    connection?.Dispose();
                    connection = null;

                    // Retried four times a second (a full disk): reported when the reason
                    // changes, else once a minute, not at every attempt.
                    if (ex.Message != reported || Environment.TickCount64 - reportedAt > 60_000)
                    {
                        (reported, reportedAt) = (ex.Message, Environment.TickCount64);
                        CheckpointFailed?.Invoke(ex);
                    }
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private void ProcessBatch(List<WriteItem> batch)
    {
        var outcomes = new (object? Result, Exception? Error)[batch.Count];
        _committed.Clear();
        _pendingOutput.Clear();

        // Another sidecar on the same data directory may have written events since the last
        // batch: each session's last seq is read again inside this transaction (which holds the
        // write lock), once per session per batch, never taken from a cache another process can
        // make stale.
        _lastSeq.Clear();
        SqliteTransaction? tx = null;
        try
        {
            tx = BeginImmediate();
            var ctx = new WriteContext(this, _connection!, tx, _clock.GetUtcNow().ToUnixTimeMilliseconds());
            RecordLostOutput(ctx);
            for (var i = 0; i < batch.Count; i++)
            {
                var item = batch[i];
                if (item.Output is not null)
                {
                    AddOutput(ctx, item);
                    continue;
                }

                FlushOutput(ctx);
                outcomes[i] = RunMutation(ctx, item.Mutation!);
            }

            FlushOutput(ctx);
            tx.Commit();
        }
        catch (Exception ex)
        {
            try
            {
                tx?.Rollback();
            }
            catch (SqliteException)
            {
            }

            _lastSeq.Clear();
            _committed.Clear();
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion?.TrySetException(ex);
                if (batch[i] is { Output: { } output, Source: { } source })
                {
                    var key = (source.SessionId, source.WorkerId);
                    _lostOutput[key] = _lostOutput.GetValueOrDefault(key) + output.Length;
                }
            }

            _lostReason = ex.Message;

            CommitFailed?.Invoke(ex);
            return;
        }
        finally
        {
            tx?.Dispose();
        }

        _lostOutput.Clear();
        Interlocked.Increment(ref _commits);
        if (_committed.Count > 0)
        {
            Committed?.Invoke(_committed);
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i].Completion is { } tcs)
            {
                if (outcomes[i].Error is { } error)
                {
                    tcs.TrySetException(error);
                }
                else
                {
                    tcs.TrySetResult(outcomes[i].Result);
                }
            }
        }
    }

    /// <summary>
    /// Takes the database's write lock. Problem: with two sidecars on one data directory, a batch of
    /// one could wait past SQLite's busy timeout (5 s) for the other's, and "database is locked"
    /// reached a client (and left a stop half done). Solution: the lock is asked for again until
    /// <see cref="WriteLockBound"/>; past it the batch fails with an error that says what holds it.
    /// </summary>
    private SqliteTransaction BeginImmediate()
    {
        var since = Environment.TickCount64;
        while (true)
        {
            try
            {
                return _connection!.BeginTransaction(deferred: false);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED)
            {
                if (Environment.TickCount64 - since > WriteLockBound.TotalMilliseconds)
                {
                    throw new IOException($"the event log ({_store.Path}) stayed locked by another process for {WriteLockBound.TotalSeconds:0} s; nothing was written", ex);
                }
            }
        }
    }

    /// <summary>
    /// Problem: output that came while the log could not be written (disk full, read-only) is lost,
    /// and nothing said so. Solution: the first batch that commits again begins with a
    /// <c>system/error</c> event per worker saying how many bytes are missing there and why.
    /// </summary>
    private void RecordLostOutput(WriteContext ctx)
    {
        foreach (var ((sessionId, workerId), bytes) in _lostOutput)
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, JsonOptions))
            {
                w.WriteStartObject();
                w.WriteString("message"u8, $"{bytes} bytes of terminal output were not recorded: the event log could not be written ({_lostReason})");
                w.WriteString("source"u8, "store");
                w.WriteNumber("lostBytes"u8, bytes);
                w.WriteEndObject();
            }

            try
            {
                AppendInTransaction(ctx, new EventDraft(sessionId, "system", "error", workerId, ms.ToArray()));
            }
            catch (InvalidOperationException)
            {
                // The session was deleted meanwhile.
                _lastSeq.Remove(sessionId);
            }
        }
    }

    private (object?, Exception?) RunMutation(WriteContext ctx, Func<WriteContext, object?> mutation)
    {
        // A savepoint per item: one failing mutation is undone alone and the batch goes on.
        var mark = _committed.Count;
        Exec(ctx, "SAVEPOINT item");
        try
        {
            var result = mutation(ctx);
            Exec(ctx, "RELEASE item");
            return (result, null);
        }
        catch (Exception ex)
        {
            if (SQLitePCL.raw.sqlite3_get_autocommit(_connection!.Handle) != 0)
            {
                // Problem: on an I/O error or a full disk SQLite may roll the whole transaction
                // back itself; the savepoint went with it, and undoing it failed with "This
                // SqliteTransaction has completed", which is what every client of the batch was
                // told instead of the disk error. Solution: the batch fails with the error that ended it.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);
            }

            Exec(ctx, "ROLLBACK TO item; RELEASE item");
            for (var i = _committed.Count - 1; i >= mark; i--)
            {
                var e = _committed[i];
                _lastSeq[e.SessionId] = e.Seq - 1;
                _committed.RemoveAt(i);
            }

            return (null, ex);
        }
    }

    private static void Exec(WriteContext ctx, string sql)
    {
        using var c = ctx.Command(sql);
        c.ExecuteNonQuery();
    }

    private void AddOutput(WriteContext ctx, WriteItem item)
    {
        var key = item.Source!.SessionId;
        var workerId = item.Source.WorkerId;
        if (_pendingOutput.TryGetValue(key, out var pending)
            && (pending.WorkerId != workerId || pending.Buffer.Length + item.Output!.Length > MaxOutputEventBytes))
        {
            WriteOutput(ctx, key, pending);
            _pendingOutput.Remove(key);
            pending = null;
        }

        if (pending is null)
        {
            pending = new PendingOutput(workerId);
            _pendingOutput[key] = pending;
        }

        pending.Buffer.Write(item.Output);
    }

    private void FlushOutput(WriteContext ctx)
    {
        foreach (var (sessionId, pending) in _pendingOutput)
        {
            WriteOutput(ctx, sessionId, pending);
        }

        _pendingOutput.Clear();
    }

    private void WriteOutput(WriteContext ctx, string sessionId, PendingOutput pending)
    {
        // Valid UTF-8 (nearly always) is escaped straight from the bytes; anything else is decoded
        // first, so undecodable bytes become U+FFFD (the writer refuses invalid UTF-8).
        var bytes = pending.Buffer.GetBuffer().AsSpan(0, (int)pending.Buffer.Length);
        using var ms = new MemoryStream(bytes.Length + 16);
        using (var w = new Utf8JsonWriter(ms, JsonOptions))
        {
            w.WriteStartObject();
            if (System.Text.Unicode.Utf8.IsValid(bytes))
            {
                w.WriteString("data"u8, bytes);
            }
            else
            {
                w.WriteString("data"u8, Encoding.UTF8.GetString(bytes));
            }

            w.WriteEndObject();
        }

        try
        {
            AppendInTransaction(ctx, new EventDraft(sessionId, "pty", "output", pending.WorkerId, ms.ToArray()));
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == SQLitePCL.raw.SQLITE_CONSTRAINT)
        {
            // Output for a session that was deleted meanwhile: nobody can read it; drop it.
            _lastSeq.Remove(sessionId);
        }
        catch (InvalidOperationException)
        {
            _lastSeq.Remove(sessionId);
        }
    }

    private sealed record WriteItem(IOutputSource? Source, byte[]? Output, Func<WriteContext, object?>? Mutation, TaskCompletionSource<object?>? Completion);

    private sealed class PendingOutput(string workerId)
    {
        public string WorkerId { get; } = workerId;

        public MemoryStream Buffer { get; } = new();
    }
}
