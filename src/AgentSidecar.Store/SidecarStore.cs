using System.Reflection;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AgentSidecar.Store;

/// <summary>
/// The SQLite database: schema migrations at open, and reads on pooled connections. All writes go
/// through the one <see cref="StoreWriter"/> (WAL mode: readers never block the writer).
/// </summary>
public sealed class SidecarStore
{
    private const int BusyTimeoutMs = 5000;

    private readonly string _connectionString;

    private SidecarStore(string path, string connectionString)
    {
        Path = path;
        _connectionString = connectionString;
    }

    public string Path { get; }

    public static int LatestVersion => Migrations().Count;

    /// <summary>Opens (creating with mode 0600 if needed) and migrates the database at <paramref name="path"/>.</summary>
    public static SidecarStore Open(string path)
    {
        SQLitePCL.Batteries_V2.Init();
        UseMultiThreadMode();
        if (!File.Exists(path))
        {
            using var _ = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }

        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
        var store = new SidecarStore(path, cs);
        using var conn = store.OpenConnection();

        // WAL is a property of the database file: set once here, not on every (pooled) open.
        Exec(conn, "PRAGMA journal_mode=WAL");
        Migrate(conn);
        return store;
    }

    private static int s_threadingConfigured;

    /// <summary>
    /// Problem: e_sqlite3 is built serialized, so every API call (each column of each row of a
    /// replay) locks and unlocks the connection's mutex. Solution: multi-thread mode, set before
    /// SQLite initializes: no per-call mutex. It is safe because a connection is only ever used by
    /// one thread at a time (the writer owns its own; readers take one from the pool per call).
    /// </summary>
    private static void UseMultiThreadMode()
    {
        if (Interlocked.Exchange(ref s_threadingConfigured, 1) == 0)
        {
            // SQLITE_MISUSE if SQLite was already initialized (another store opened first): then
            // it stays serialized, which is correct, only slower.
            _ = raw.sqlite3_config(raw.SQLITE_CONFIG_MULTITHREAD);
        }
    }

    /// <summary>The schema version of the database (PRAGMA user_version).</summary>
    public int SchemaVersion()
    {
        using var conn = OpenConnection();
        return UserVersion(conn);
    }

    /// <summary>A pooled connection (foreign keys and the busy timeout come from the connection string).</summary>
    internal SqliteConnection OpenConnection()
    {
        var conn = new SqliteConnection(_connectionString);
        conn.Open();
        return conn;
    }

    /// <summary>The writer's own connection: commits in WAL are durable across a process crash with NORMAL.</summary>
    internal SqliteConnection OpenWriterConnection()
    {
        var conn = OpenConnection();
        Exec(conn, "PRAGMA synchronous=NORMAL");

        // Problem: SQLite checkpoints the WAL inside the commit that crosses 1,000 pages, with an
        // fsync of the database: a keystroke's echo waited several ms for it every few hundred
        // commits (the clusters of slow echoes). Solution: the writer never checkpoints; the
        // store writer's checkpointer thread does (PASSIVE, on its own connection), and a reset
        // WAL is cut back to 64 MiB.
        Exec(conn, "PRAGMA wal_autocheckpoint=0");
        Exec(conn, "PRAGMA journal_size_limit=67108864");
        return conn;
    }

    /// <summary>Copies what it can of the WAL into the database without waiting for readers or the writer.</summary>
    internal static void CheckpointPassive(SqliteConnection conn) => Exec(conn, "PRAGMA wal_checkpoint(PASSIVE)");

    private static void Exec(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public SessionRow? GetSession(string id)
    {
        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {SqlStatements.SessionColumns} FROM sessions WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        using var r = cmd.ExecuteReader();
        return r.Read() ? SqlStatements.ReadSession(r) : null;
    }

    public List<SessionRow> ListSessions(SessionQuery q)
    {
        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        var sql = new StringBuilder($"SELECT {SqlStatements.SessionColumns} FROM sessions WHERE 1=1");
        if (q.Workspace is not null)
        {
            sql.Append(" AND workspace = $workspace");
            cmd.Parameters.AddWithValue("$workspace", q.Workspace);
        }

        if (q.Provider is not null)
        {
            sql.Append(" AND provider = $provider");
            cmd.Parameters.AddWithValue("$provider", q.Provider);
        }

        if (q.TaskId is not null)
        {
            sql.Append(" AND task_id = $task");
            cmd.Parameters.AddWithValue("$task", q.TaskId);
        }

        if (q.Key is not null)
        {
            sql.Append(" AND session_key = $key");
            cmd.Parameters.AddWithValue("$key", q.Key);
        }

        if (q.Statuses is { Count: > 0 } statuses)
        {
            sql.Append(" AND status IN (");
            for (var i = 0; i < statuses.Count; i++)
            {
                sql.Append(i == 0 ? "$st0" : $", $st{i}");
                cmd.Parameters.AddWithValue($"$st{i}", statuses[i]);
            }

            sql.Append(')');
        }

        if (q.After is { } after)
        {
            sql.Append(" AND (created_at < $acreated OR (created_at = $acreated AND id < $aid))");
            cmd.Parameters.AddWithValue("$acreated", after.CreatedAt);
            cmd.Parameters.AddWithValue("$aid", after.Id);
        }

        sql.Append(" ORDER BY created_at DESC, id DESC LIMIT $limit");
        cmd.Parameters.AddWithValue("$limit", q.Limit);
        cmd.CommandText = sql.ToString();
        var result = new List<SessionRow>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            result.Add(SqlStatements.ReadSession(r));
        }

        return result;
    }

    /// <summary>Ids of ended (completed or failed) sessions that ended before <paramref name="cutoff"/> (unix ms), oldest first.</summary>
    public List<string> EndedBefore(long cutoff, int limit)
    {
        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT id FROM sessions WHERE ended_at IS NOT NULL AND ended_at < $cutoff AND status IN ('completed', 'failed') ORDER BY ended_at LIMIT $limit";
        cmd.Parameters.AddWithValue("$cutoff", cutoff);
        cmd.Parameters.AddWithValue("$limit", limit);
        var result = new List<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            result.Add(r.GetString(0));
        }

        return result;
    }

    /// <summary>Ended sessions whose worktree is still recorded as in use: their end was interrupted (a crash mid-removal).</summary>
    public List<SessionRow> EndedWithActiveWorktree(int limit)
    {
        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {SqlStatements.SessionColumns} FROM sessions WHERE worktree_state = 'active' AND status IN ('completed', 'failed') LIMIT $limit";
        cmd.Parameters.AddWithValue("$limit", limit);
        var result = new List<SessionRow>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            result.Add(SqlStatements.ReadSession(r));
        }

        return result;
    }

    /// <summary>The newest session recorded for the agent's own conversation id, or null.</summary>
    public SessionRow? FindByAgentSession(string provider, string agentSessionId)
    {
        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {SqlStatements.SessionColumns} FROM sessions WHERE provider = $p AND agent_session_id = $a ORDER BY created_at DESC LIMIT 1";
        cmd.Parameters.AddWithValue("$p", provider);
        cmd.Parameters.AddWithValue("$a", agentSessionId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? SqlStatements.ReadSession(r) : null;
    }

    public List<WorkerRow> ListWorkers(string sessionId)
    {
        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {SqlStatements.WorkerColumns} FROM workers WHERE session_id = $s ORDER BY created_at, id";
        cmd.Parameters.AddWithValue("$s", sessionId);
        var result = new List<WorkerRow>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            result.Add(SqlStatements.ReadWorker(r));
        }

        return result;
    }

    /// <summary>The workers of several sessions in one query, by session id.</summary>
    public Dictionary<string, List<WorkerRow>> ListWorkers(IEnumerable<string> sessionIds)
    {
        var ids = sessionIds.ToList();
        var result = new Dictionary<string, List<WorkerRow>>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return result;
        }

        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        var sql = new StringBuilder($"SELECT {SqlStatements.WorkerColumns} FROM workers WHERE session_id IN (");
        for (var i = 0; i < ids.Count; i++)
        {
            sql.Append(i == 0 ? "$s0" : $", $s{i}");
            cmd.Parameters.AddWithValue($"$s{i}", ids[i]);
        }

        cmd.CommandText = sql.Append(") ORDER BY created_at, id").ToString();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var w = SqlStatements.ReadWorker(r);
            if (!result.TryGetValue(w.SessionId, out var list))
            {
                result[w.SessionId] = list = [];
            }

            list.Add(w);
        }

        return result;
    }

    public WorkerRow? GetWorker(string workerId)
    {
        using var conn = OpenConnection();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {SqlStatements.WorkerColumns} FROM workers WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", workerId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? SqlStatements.ReadWorker(r) : null;
    }

    /// <summary>Events with seq &gt; <paramref name="afterSeq"/>, in seq order, at most <paramref name="limit"/>.</summary>
    /// <summary>
    /// Events after <paramref name="afterSeq"/> in seq order: at most <paramref name="limit"/>, and
    /// no more once their data passes <paramref name="maxBytes"/> (at least one is always returned).
    /// </summary>
    public List<StoredEvent> ReadEvents(string sessionId, long afterSeq, int limit, IReadOnlyCollection<string>? channels = null, long maxBytes = long.MaxValue)
    {
        // Problem: replaying 1,000,000 events spent two thirds of its time here, in the
        // ADO.NET reader's per-column machinery (type checks, a new string per text column, a
        // copy per blob through GetValue). Solution: step the statement with SQLite's own API on
        // the pooled connection's handle, read columns as spans, and reuse the previous row's
        // channel/type/worker strings when the bytes are the same (they almost always are).
        var sql = new StringBuilder("SELECT seq, ts, channel, type, worker_id, data FROM events WHERE session_id = ?1 AND seq > ?2");
        if (channels is { Count: > 0 })
        {
            sql.Append(" AND channel IN (");
            for (var i = 0; i < channels.Count; i++)
            {
                sql.Append(i == 0 ? "?" : ", ?").Append(i + 4);
            }

            sql.Append(')');
        }

        sql.Append(" ORDER BY seq LIMIT ?3");
        using var conn = OpenConnection();
        var db = conn.Handle!;
        var rc = raw.sqlite3_prepare_v2(db, sql.ToString(), out var stmt);
        using var statement = stmt;
        Check(db, rc);
        raw.sqlite3_bind_text(stmt, 1, sessionId);
        raw.sqlite3_bind_int64(stmt, 2, afterSeq);
        raw.sqlite3_bind_int64(stmt, 3, limit);
        if (channels is { Count: > 0 })
        {
            var i = 4;
            foreach (var ch in channels)
            {
                raw.sqlite3_bind_text(stmt, i++, ch);
            }
        }

        var result = new List<StoredEvent>(Math.Min(limit, 1024));
        string? channel = null, type = null, worker = null;
        long bytes = 0;
        var busySince = 0L;
        while (bytes < maxBytes)
        {
            rc = raw.sqlite3_step(stmt);
            if (rc == raw.SQLITE_DONE)
            {
                break;
            }

            if (rc is raw.SQLITE_BUSY or raw.SQLITE_LOCKED)
            {
                // Rare in WAL mode (a reader meeting a checkpoint's WAL reset); what was read is
                // a valid prefix, else wait as the pooled connections' busy timeout would.
                if (result.Count > 0)
                {
                    break;
                }

                busySince = busySince == 0 ? Environment.TickCount64 : busySince;
                if (Environment.TickCount64 - busySince > BusyTimeoutMs)
                {
                    Check(db, rc);
                }

                raw.sqlite3_reset(stmt);
                Thread.Sleep(1);
                continue;
            }

            if (rc != raw.SQLITE_ROW)
            {
                Check(db, rc);
            }

            channel = Reuse(channel, raw.sqlite3_column_blob(stmt, 2));
            type = Reuse(type, raw.sqlite3_column_blob(stmt, 3));
            worker = raw.sqlite3_column_type(stmt, 4) == raw.SQLITE_NULL ? null : Reuse(worker, raw.sqlite3_column_blob(stmt, 4));
            var data = raw.sqlite3_column_blob(stmt, 5).ToArray();
            bytes += data.Length;
            result.Add(new StoredEvent(sessionId, raw.sqlite3_column_int64(stmt, 0), raw.sqlite3_column_int64(stmt, 1), channel, type, worker, data));
        }

        return result;
    }

    /// <summary>The previous string when it has the same (ASCII) bytes, else a new one.</summary>
    private static string Reuse(string? previous, ReadOnlySpan<byte> utf8)
    {
        if (previous is not null && previous.Length == utf8.Length)
        {
            var same = true;
            for (var i = 0; i < utf8.Length; i++)
            {
                if (utf8[i] >= 0x80 || previous[i] != utf8[i])
                {
                    same = false;
                    break;
                }
            }

            if (same)
            {
                return previous;
            }
        }

        return Encoding.UTF8.GetString(utf8);
    }

    private static void Check(SQLitePCL.sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    private static int UserVersion(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Migrate(SqliteConnection conn)
    {
        var current = UserVersion(conn);
        var migrations = Migrations();
        if (current > migrations.Count)
        {
            throw new InvalidOperationException($"the database schema is version {current}, newer than this sidecar knows ({migrations.Count}); upgrade agent-sidecar");
        }

        for (var v = current + 1; v <= migrations.Count; v++)
        {
            using var tx = conn.BeginTransaction();
            using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = migrations[v - 1] + $"\nPRAGMA user_version = {v};";
            cmd.ExecuteNonQuery();
            tx.Commit();
        }
    }

    /// <summary>Embedded migrations, ordered by their number prefix (001_…, 002_…).</summary>
    internal static List<string> Migrations()
    {
        var asm = Assembly.GetExecutingAssembly();
        return asm.GetManifestResourceNames()
            .Where(n => n.StartsWith("Migrations.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var s = asm.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(s);
                return reader.ReadToEnd();
            })
            .ToList();
    }
}
