namespace AgentSidecar.Protocol;

public static class SessionStatuses
{
    public const string Created = "created";
    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Completed = "completed";
    public const string Failed = "failed";

    public static readonly string[] All = [Created, Active, Suspended, Completed, Failed];
}

public sealed record Owner
{
    public int Pid { get; init; }

    public long StartTime { get; init; }

    public string? Socket { get; init; }
}

public sealed record Session
{
    public required string Id { get; init; }

    public required string Workspace { get; init; }

    public required string Provider { get; init; }

    public string? Model { get; init; }

    public string? TaskId { get; init; }

    public required string Kind { get; init; }

    public required string Status { get; init; }

    public string? StatusReason { get; init; }

    public string? Title { get; init; }

    public required string CreatedAt { get; init; }

    public required string UpdatedAt { get; init; }

    public string? EndedAt { get; init; }

    public string? TransitionedFrom { get; init; }

    public string? TransitionedTo { get; init; }

    public string? AgentSessionId { get; init; }

    public bool Busy { get; init; }

    /// <summary>While busy: what the session waits for (<c>approval</c>: a prompt waits for the user's answer).</summary>
    public string? Waiting { get; init; }

    public long LastSeq { get; init; }

    /// <summary>Which sidecar owns the session's processes (while it is live).</summary>
    public Owner? Owner { get; init; }

    /// <summary>Worktree sessions: the git worktree the agent runs in.</summary>
    public WorktreeInfo? Worktree { get; init; }

    public IReadOnlyList<Worker> Workers { get; init; } = [];
}

/// <summary>
/// A worktree session's worktree. State: <c>active</c>, <c>moved</c> (the session after a /clear has
/// it), <c>removed</c> (it was clean at the end), <c>kept</c> (it was not: <c>reason</c> says why).
/// </summary>
public sealed record WorktreeInfo
{
    public required string Path { get; init; }

    public string? Branch { get; init; }

    public required string State { get; init; }

    public string? Reason { get; init; }
}

public sealed record Worker
{
    public required string Id { get; init; }

    public required string SessionId { get; init; }

    public required string Kind { get; init; }

    public required string Name { get; init; }

    public required string Status { get; init; }

    public int? Pid { get; init; }

    public int? ExitCode { get; init; }

    public int? Signal { get; init; }

    public int Cols { get; init; }

    public int Rows { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public string? Cwd { get; init; }
}

/// <summary>An MCP server the agent starts over stdio: <c>{name, command, args?, env?}</c>.</summary>
public sealed record McpServerParams
{
    public string? Name { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public IReadOnlyDictionary<string, string>? Env { get; init; }
}

public sealed record SessionStartParams : IValidatable
{
    public const int MinCols = 2;
    public const int MaxCols = 1000;
    public const int MinRows = 1;
    public const int MaxRows = 500;

    public string? Workspace { get; init; }

    public string? Provider { get; init; }

    public string? Model { get; init; }

    public string? TaskId { get; init; }

    public string? Kind { get; init; }

    public string? Title { get; init; }

    public bool? Reuse { get; init; }

    public int? Cols { get; init; }

    public int? Rows { get; init; }

    /// <summary>Extra MCP servers (stdio) for the agent, for providers with the <c>mcp</c> feature.</summary>
    public IReadOnlyList<McpServerParams>? McpServers { get; init; }

    /// <summary>A session this one takes the place of: another agent or model for the same folder (docs/protocol.md).</summary>
    public string? Replaces { get; init; }

    public void Validate()
    {
        Require.NonEmpty(Workspace, "workspace");
        if (Replaces is not null)
        {
            Require.NonEmpty(Replaces, "replaces");
        }

        Require.OneOf(Kind, "kind", "quick", "worktree");
        for (var i = 0; i < (McpServers?.Count ?? 0); i++)
        {
            Require.NonEmpty(McpServers![i]?.Name, $"mcpServers[{i}].name");
            Require.NonEmpty(McpServers[i].Command, $"mcpServers[{i}].command");
        }

        Require.Range(Cols, "cols", MinCols, MaxCols);
        Require.Range(Rows, "rows", MinRows, MaxRows);
    }
}

public sealed record SessionListParams : IValidatable
{
    public const int MaxLimit = 1000;

    public string? Workspace { get; init; }

    public string? Provider { get; init; }

    public IReadOnlyList<string>? Status { get; init; }

    public string? TaskId { get; init; }

    public int? Limit { get; init; }

    public string? Cursor { get; init; }

    public void Validate()
    {
        Require.Range(Limit, "limit", 1, MaxLimit);
        if (Status is not null)
        {
            foreach (var s in Status)
            {
                Require.OneOf(s, "status", SessionStatuses.All);
            }
        }
    }
}

public sealed record SessionListResult
{
    public required IReadOnlyList<Session> Sessions { get; init; }

    public string? NextCursor { get; init; }
}

/// <summary>Params of every method that names one session.</summary>
public sealed record SessionIdParams : IValidatable, IOrderedRequest
{
    public string? SessionId { get; init; }

    public string? OrderingKey => SessionId;

    public void Validate() => Require.NonEmpty(SessionId, "sessionId");
}

/// <summary>
/// <c>session/setTaskId</c>: <c>taskId</c> must be present, a non-empty string or null (null clears
/// it). Why a <see cref="JsonElement"/>: a forgotten field must not clear a task id by accident, and
/// only the element tells "absent" (<c>Undefined</c>) from <c>null</c>.
/// </summary>
public sealed record SessionSetTaskIdParams : IValidatable, IOrderedRequest
{
    public string? SessionId { get; init; }

    public System.Text.Json.JsonElement TaskId { get; init; }

    public string? OrderingKey => SessionId;

    /// <summary>The params that set <paramref name="taskId"/> (null: clear it), for clients written in C# (the CLI).</summary>
    public static SessionSetTaskIdParams For(string sessionId, string? taskId)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            if (taskId is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(taskId);
            }
        }

        using var doc = System.Text.Json.JsonDocument.Parse(buffer.WrittenMemory);
        return new SessionSetTaskIdParams { SessionId = sessionId, TaskId = doc.RootElement.Clone() };
    }

    /// <summary>The task id to set, or null to clear it (after <see cref="Validate"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Value => TaskId.ValueKind == System.Text.Json.JsonValueKind.String ? TaskId.GetString() : null;

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        switch (TaskId.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Null:
                return;
            case System.Text.Json.JsonValueKind.String:
                Require.NonEmpty(TaskId.GetString(), "taskId");
                return;
            case System.Text.Json.JsonValueKind.Undefined:
                throw RpcException.InvalidParams("taskId", "'taskId' is required: a string, or null to clear the task id");
            default:
                throw RpcException.InvalidParams("taskId", $"'taskId' must be a string or null, got {TaskId.ValueKind.ToString().ToLowerInvariant()}");
        }
    }
}

public sealed record SessionAttachParams : IValidatable, IOrderedRequest
{
    public string? SessionId { get; init; }

    public long? AfterSeq { get; init; }

    public IReadOnlyList<string>? Channels { get; init; }

    public string? OrderingKey => SessionId;

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        Require.NonNegative(AfterSeq, "afterSeq");
        ValidateChannels(Channels);
    }

    internal static void ValidateChannels(IReadOnlyList<string>? channels)
    {
        if (channels is null)
        {
            return;
        }

        foreach (var c in channels)
        {
            Require.OneOf(c, "channels", "pty", "chat", "system", "metrics");
        }
    }
}

public sealed record SessionAttachResult
{
    public required string AttachId { get; init; }

    public long LastSeq { get; init; }
}

public sealed record SessionDetachParams : IValidatable
{
    public string? AttachId { get; init; }

    public void Validate() => Require.NonEmpty(AttachId, "attachId");
}

public sealed record SessionEventsParams : IValidatable
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10000;

    public string? SessionId { get; init; }

    public long? AfterSeq { get; init; }

    public int? Limit { get; init; }

    public IReadOnlyList<string>? Channels { get; init; }

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        Require.NonNegative(AfterSeq, "afterSeq");
        Require.Range(Limit, "limit", 1, MaxLimit);
        SessionAttachParams.ValidateChannels(Channels);
    }
}

public sealed record SessionEventsResult
{
    public required IReadOnlyList<EventRecord> Events { get; init; }

    public long LastSeq { get; init; }

    public bool HasMore { get; init; }
}

public sealed record SessionDetachedParams
{
    public required string AttachId { get; init; }

    public required string Reason { get; init; }

    public long LastSeq { get; init; }

    public string? SessionId { get; init; }
}

public sealed record SessionChangedParams
{
    public required Session Session { get; init; }
}

public sealed record SessionTransitionedParams
{
    public required Session Previous { get; init; }

    public required Session Current { get; init; }
}

public sealed record SessionResetParams : IValidatable
{
    public string? Workspace { get; init; }

    public string? Provider { get; init; }

    public void Validate()
    {
        Require.NonEmpty(Workspace, "workspace");
        if (Provider is not null)
        {
            Require.NonEmpty(Provider, "provider");
        }
    }
}

public sealed record SessionResetResult
{
    public required IReadOnlyList<string> Ended { get; init; }
}

public sealed record SessionCleanupParams : IValidatable
{
    public double? IdleSeconds { get; init; }

    public double? PurgeOlderThanDays { get; init; }

    public void Validate()
    {
        if (IdleSeconds is { } i && (double.IsNaN(i) || i < 0 || i > 365 * 86400))
        {
            throw RpcException.InvalidParams("idleSeconds", $"'idleSeconds' must be between 0 and {365 * 86400}, got {i}");
        }

        if (PurgeOlderThanDays is { } d && (double.IsNaN(d) || d < 0 || d > 36500))
        {
            throw RpcException.InvalidParams("purgeOlderThanDays", $"'purgeOlderThanDays' must be between 0 and 36500, got {d}");
        }
    }
}

public sealed record SessionCleanupResult
{
    /// <summary>Sessions suspended because they were idle.</summary>
    public required IReadOnlyList<string> Ended { get; init; }

    /// <summary>Ended sessions whose history was deleted.</summary>
    public required IReadOnlyList<string> Purged { get; init; }
}

public sealed record SessionImportParams : IValidatable
{
    public string? Workspace { get; init; }

    public string? Provider { get; init; }

    public void Validate()
    {
        Require.NonEmpty(Workspace, "workspace");
        Require.NonEmpty(Provider, "provider");
    }
}

public sealed record SessionImportResult
{
    public required IReadOnlyList<Session> Sessions { get; init; }
}

public sealed record SessionDeleteResult
{
    /// <summary>Worktree sessions: what happened to the worktree (kept if it was not clean).</summary>
    public WorktreeInfo? Worktree { get; init; }
}
