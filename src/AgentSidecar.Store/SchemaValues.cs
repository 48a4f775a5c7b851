namespace AgentSidecar.Store;

// The values the schema's CHECK constraints allow (Migrations/001_initial.sql, 003_lifecycle.sql),
// in one place, so code never spells a status by hand.

/// <summary><c>sessions.status</c>: <c>created → active → suspended | completed | failed</c>.</summary>
public static class SessionStatuses
{
    public const string Created = "created";
    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Completed = "completed";
    public const string Failed = "failed";

    /// <summary>A session that has processes somewhere (or had, if its sidecar died).</summary>
    public static bool IsRunning(string status) => status is Created or Active;

    /// <summary>A session that is over for good.</summary>
    public static bool IsEnded(string status) => status is Completed or Failed;
}

/// <summary><c>sessions.kind</c>.</summary>
public static class SessionKinds
{
    public const string Quick = "quick";
    public const string Worktree = "worktree";
}

/// <summary><c>sessions.worktree_state</c>.</summary>
public static class WorktreeStates
{
    public const string Active = "active";
    public const string Moved = "moved";
    public const string Removed = "removed";
    public const string Kept = "kept";
}

/// <summary><c>workers.kind</c>.</summary>
public static class WorkerKinds
{
    public const string Agent = "agent";
    public const string Terminal = "terminal";
}

/// <summary><c>workers.status</c>.</summary>
public static class WorkerStatuses
{
    public const string Running = "running";
    public const string Exited = "exited";
}

/// <summary><c>events.channel</c>.</summary>
public static class Channels
{
    public const string Pty = "pty";
    public const string Chat = "chat";
    public const string System = "system";
    public const string Metrics = "metrics";
}
