namespace AgentSidecar.Store;

/// <summary>A session as stored. Times are unix milliseconds.</summary>
public sealed record SessionRow
{
    public required string Id { get; init; }

    public required string Key { get; init; }

    public required string Workspace { get; init; }

    public required string Provider { get; init; }

    public string? Model { get; init; }

    public string? TaskId { get; init; }

    public required string Kind { get; init; }

    public required string Status { get; init; }

    public string? StatusReason { get; init; }

    public string? Title { get; init; }

    public long CreatedAt { get; init; }

    public long UpdatedAt { get; init; }

    public long? EndedAt { get; init; }

    public string? TransitionedFrom { get; init; }

    public string? TransitionedTo { get; init; }

    public string? AgentSessionId { get; init; }

    public long LastSeq { get; init; }

    public int? OwnerPid { get; init; }

    public long? OwnerStart { get; init; }

    public string? OwnerSocket { get; init; }

    public int Cols { get; init; }

    public int Rows { get; init; }

    public long LastActivityAt { get; init; }

    /// <summary>Worktree sessions: the worktree the agent runs in, its branch and the commit it started from.</summary>
    public string? WorktreePath { get; init; }

    public string? WorktreeBranch { get; init; }

    public string? WorktreeBase { get; init; }

    /// <summary><c>active</c> (this session's), <c>moved</c> (to the session after a /clear), <c>removed</c>, <c>kept</c> (not clean at the end).</summary>
    public string? WorktreeState { get; init; }
}

public sealed record WorkerRow
{
    public required string Id { get; init; }

    public required string SessionId { get; init; }

    public required string Kind { get; init; }

    public required string Name { get; init; }

    public required string Command { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    public required string Cwd { get; init; }

    public required string Status { get; init; }

    public int? Pid { get; init; }

    public long? PidStart { get; init; }

    public int? ExitCode { get; init; }

    public int? Signal { get; init; }

    public int Cols { get; init; }

    public int Rows { get; init; }

    public long CreatedAt { get; init; }

    public long? ExitedAt { get; init; }

    /// <summary>It was running when its session was suspended: it starts again on resume.</summary>
    public bool Resume { get; init; }
}

/// <summary>An event as committed: <see cref="Data"/> is the payload's UTF-8 JSON.</summary>
public sealed record StoredEvent(string SessionId, long Seq, long Ts, string Channel, string Type, string? WorkerId, byte[] Data);

/// <summary>An event to append; the writer gives it its seq and time.</summary>
public sealed record EventDraft(string SessionId, string Channel, string Type, string? WorkerId, byte[] Data);

public sealed record SessionQuery
{
    public string? Workspace { get; init; }

    public string? Provider { get; init; }

    public IReadOnlyList<string>? Statuses { get; init; }

    public string? TaskId { get; init; }

    public string? Key { get; init; }

    public int Limit { get; init; } = 100;

    /// <summary>Keyset cursor: sessions created before this (createdAt, id).</summary>
    public (long CreatedAt, string Id)? After { get; init; }
}
