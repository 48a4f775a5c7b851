using Microsoft.Data.Sqlite;

namespace AgentSidecar.Store;

/// <summary>
/// The writer's view of one transaction. Everything done through it commits together, and the
/// events appended through it reach clients only after that commit.
/// </summary>
public sealed class WriteContext
{
    private readonly StoreWriter _writer;

    internal WriteContext(StoreWriter writer, SqliteConnection connection, SqliteTransaction transaction, long now)
    {
        _writer = writer;
        Connection = connection;
        Transaction = transaction;
        Now = now;
    }

    internal SqliteConnection Connection { get; }

    internal SqliteTransaction Transaction { get; }

    /// <summary>The transaction's timestamp (unix ms).</summary>
    public long Now { get; }

    /// <summary>Appends an event; it gets the session's next seq.</summary>
    public StoredEvent Append(EventDraft draft) => _writer.AppendInTransaction(this, draft);

    public void InsertSession(SessionRow s)
    {
        using var c = Command($"INSERT INTO sessions ({SqlStatements.SessionColumns}) VALUES ($id, $key, $workspace, $provider, $model, $task, $kind, $status, $reason, $title, $created, $updated, $ended, $from, $to, $agent, 0, $opid, $ostart, $osocket, $cols, $rows, $activity, $wtpath, $wtbranch, $wtbase, $wtstate)");
        SqlStatements.BindSession(c, s);
        c.ExecuteNonQuery();
    }

    /// <summary>Writes every column of the session but <c>last_seq</c> (which only the event log advances).</summary>
    public void UpdateSession(SessionRow s)
    {
        using var c = Command("""
            UPDATE sessions SET session_key = $key, workspace = $workspace, provider = $provider, model = $model, task_id = $task,
              kind = $kind, status = $status, status_reason = $reason, title = $title, created_at = $created, updated_at = $updated,
              ended_at = $ended, transitioned_from = $from, transitioned_to = $to, agent_session_id = $agent, owner_pid = $opid,
              owner_start = $ostart, owner_socket = $osocket, cols = $cols, rows = $rows, last_activity_at = $activity,
              worktree_path = $wtpath, worktree_branch = $wtbranch, worktree_base = $wtbase, worktree_state = $wtstate
            WHERE id = $id
            """);
        SqlStatements.BindSession(c, s);
        if (c.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException($"session {s.Id} does not exist");
        }
    }

    /// <summary>Sets one session's agent session id and nothing else (no stale copy of the row is written).</summary>
    public void SetAgentSessionId(string id, string agentSessionId, long now)
    {
        using var c = Command("UPDATE sessions SET agent_session_id = $agent, updated_at = $updated WHERE id = $id");
        c.Parameters.AddWithValue("$id", id);
        c.Parameters.AddWithValue("$agent", agentSessionId);
        c.Parameters.AddWithValue("$updated", now);
        c.ExecuteNonQuery();
    }

    public SessionRow? GetSession(string id)
    {
        using var c = Command($"SELECT {SqlStatements.SessionColumns} FROM sessions WHERE id = $id");
        c.Parameters.AddWithValue("$id", id);
        using var r = c.ExecuteReader();
        return r.Read() ? SqlStatements.ReadSession(r) : null;
    }

    /// <summary>The session's last event on <paramref name="channel"/> (of <paramref name="type"/> if given), or null.</summary>
    public StoredEvent? LastEvent(string sessionId, string channel, string? type = null)
    {
        using var c = Command("SELECT seq, ts, type, worker_id, data FROM events WHERE session_id = $id AND channel = $channel AND ($type IS NULL OR type = $type) ORDER BY seq DESC LIMIT 1");
        c.Parameters.AddWithValue("$id", sessionId);
        c.Parameters.AddWithValue("$channel", channel);
        c.Parameters.AddWithValue("$type", (object?)type ?? DBNull.Value);
        using var r = c.ExecuteReader();
        return r.Read()
            ? new StoredEvent(sessionId, r.GetInt64(0), r.GetInt64(1), channel, r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), (byte[])r.GetValue(4))
            : null;
    }

    public void DeleteSession(string id)
    {
        using var c = Command("DELETE FROM events WHERE session_id = $id; DELETE FROM workers WHERE session_id = $id; DELETE FROM sessions WHERE id = $id;");
        c.Parameters.AddWithValue("$id", id);
        c.ExecuteNonQuery();
        _writer.ForgetSession(id);
    }

    public void UpsertWorker(WorkerRow w)
    {
        using var c = Command($"""
            INSERT INTO workers ({SqlStatements.WorkerColumns}) VALUES ($id, $session, $kind, $name, $command, $args, $cwd, $status, $pid, $pidstart, $exit, $signal, $cols, $rows, $created, $exited, $resume)
            ON CONFLICT (id) DO UPDATE SET session_id = $session, name = $name, command = $command, args = $args, cwd = $cwd, status = $status,
              pid = $pid, pid_start = $pidstart, exit_code = $exit, signal = $signal, cols = $cols, rows = $rows, exited_at = $exited, resume = $resume
            """);
        SqlStatements.BindWorker(c, w);
        c.ExecuteNonQuery();
    }

    internal SqliteCommand Command(string sql)
    {
        var c = Connection.CreateCommand();
        c.Transaction = Transaction;
        c.CommandText = sql;
        return c;
    }
}
