using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace AgentSidecar.Store;

/// <summary>Row mapping shared by reads and writes.</summary>
internal static class SqlStatements
{
    public const string SessionColumns =
        "id, session_key, workspace, provider, model, task_id, kind, status, status_reason, title, created_at, updated_at, ended_at, " +
        "transitioned_from, transitioned_to, agent_session_id, last_seq, owner_pid, owner_start, owner_socket, cols, rows, last_activity_at, " +
        "worktree_path, worktree_branch, worktree_base, worktree_state";

    public const string WorkerColumns =
        "id, session_id, kind, name, command, args, cwd, status, pid, pid_start, exit_code, signal, cols, rows, created_at, exited_at, resume";

    public static SessionRow ReadSession(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Key = r.GetString(1),
        Workspace = r.GetString(2),
        Provider = r.GetString(3),
        Model = NullableString(r, 4),
        TaskId = NullableString(r, 5),
        Kind = r.GetString(6),
        Status = r.GetString(7),
        StatusReason = NullableString(r, 8),
        Title = NullableString(r, 9),
        CreatedAt = r.GetInt64(10),
        UpdatedAt = r.GetInt64(11),
        EndedAt = r.IsDBNull(12) ? null : r.GetInt64(12),
        TransitionedFrom = NullableString(r, 13),
        TransitionedTo = NullableString(r, 14),
        AgentSessionId = NullableString(r, 15),
        LastSeq = r.GetInt64(16),
        OwnerPid = r.IsDBNull(17) ? null : r.GetInt32(17),
        OwnerStart = r.IsDBNull(18) ? null : r.GetInt64(18),
        OwnerSocket = NullableString(r, 19),
        Cols = r.GetInt32(20),
        Rows = r.GetInt32(21),
        LastActivityAt = r.GetInt64(22),
        WorktreePath = NullableString(r, 23),
        WorktreeBranch = NullableString(r, 24),
        WorktreeBase = NullableString(r, 25),
        WorktreeState = NullableString(r, 26),
    };

    public static WorkerRow ReadWorker(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        SessionId = r.GetString(1),
        Kind = r.GetString(2),
        Name = r.GetString(3),
        Command = r.GetString(4),
        Args = JsonSerializer.Deserialize(r.GetString(5), StoreJsonContext.Default.ListString) ?? [],
        Cwd = r.GetString(6),
        Status = r.GetString(7),
        Pid = r.IsDBNull(8) ? null : r.GetInt32(8),
        PidStart = r.IsDBNull(9) ? null : r.GetInt64(9),
        ExitCode = r.IsDBNull(10) ? null : r.GetInt32(10),
        Signal = r.IsDBNull(11) ? null : r.GetInt32(11),
        Cols = r.GetInt32(12),
        Rows = r.GetInt32(13),
        CreatedAt = r.GetInt64(14),
        ExitedAt = r.IsDBNull(15) ? null : r.GetInt64(15),
        Resume = r.GetInt64(16) != 0,
    };

    public static void BindSession(SqliteCommand c, SessionRow s)
    {
        c.Parameters.Clear();
        Add(c, "$id", s.Id);
        Add(c, "$key", s.Key);
        Add(c, "$workspace", s.Workspace);
        Add(c, "$provider", s.Provider);
        Add(c, "$model", s.Model);
        Add(c, "$task", s.TaskId);
        Add(c, "$kind", s.Kind);
        Add(c, "$status", s.Status);
        Add(c, "$reason", s.StatusReason);
        Add(c, "$title", s.Title);
        Add(c, "$created", s.CreatedAt);
        Add(c, "$updated", s.UpdatedAt);
        Add(c, "$ended", s.EndedAt);
        Add(c, "$from", s.TransitionedFrom);
        Add(c, "$to", s.TransitionedTo);
        Add(c, "$agent", s.AgentSessionId);
        Add(c, "$opid", s.OwnerPid);
        Add(c, "$ostart", s.OwnerStart);
        Add(c, "$osocket", s.OwnerSocket);
        Add(c, "$cols", s.Cols);
        Add(c, "$rows", s.Rows);
        Add(c, "$activity", s.LastActivityAt);
        Add(c, "$wtpath", s.WorktreePath);
        Add(c, "$wtbranch", s.WorktreeBranch);
        Add(c, "$wtbase", s.WorktreeBase);
        Add(c, "$wtstate", s.WorktreeState);
    }

    public static void BindWorker(SqliteCommand c, WorkerRow w)
    {
        c.Parameters.Clear();
        Add(c, "$id", w.Id);
        Add(c, "$session", w.SessionId);
        Add(c, "$kind", w.Kind);
        Add(c, "$name", w.Name);
        Add(c, "$command", w.Command);
        Add(c, "$args", JsonSerializer.Serialize(w.Args.ToList(), StoreJsonContext.Default.ListString));
        Add(c, "$cwd", w.Cwd);
        Add(c, "$status", w.Status);
        Add(c, "$pid", w.Pid);
        Add(c, "$pidstart", w.PidStart);
        Add(c, "$exit", w.ExitCode);
        Add(c, "$signal", w.Signal);
        Add(c, "$cols", w.Cols);
        Add(c, "$rows", w.Rows);
        Add(c, "$created", w.CreatedAt);
        Add(c, "$exited", w.ExitedAt);
        Add(c, "$resume", w.Resume ? 1 : 0);
    }

    public static void Add(SqliteCommand c, string name, object? value) =>
        c.Parameters.AddWithValue(name, value ?? DBNull.Value);

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class StoreJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
