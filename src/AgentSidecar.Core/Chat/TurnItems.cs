namespace AgentSidecar.Core.Chat;

// The structured items of an agentic turn: tool calls, approvals and plans. The vocabulary follows
// the Agent Client Protocol (tool call kinds and statuses, permission option kinds, plan entries),
// so a front door that speaks it maps them one to one. Each item is keyed by its id and written
// again, whole, on every change of state: the latest event for an id is the item as it stands.

/// <summary><c>chat/tool</c>'s <c>kind</c>.</summary>
public static class ToolKinds
{
    public const string Read = "read";
    public const string Edit = "edit";
    public const string Delete = "delete";
    public const string Move = "move";
    public const string Search = "search";
    public const string Execute = "execute";
    public const string Think = "think";
    public const string Fetch = "fetch";
    public const string Other = "other";
}

/// <summary><c>chat/tool</c>'s <c>status</c>.</summary>
public static class ToolStatuses
{
    public const string Pending = "pending";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>A file an edit changed: the text before (null for a new file) and after, and the unified diff.</summary>
public sealed record ToolFile(string Path, string? OldText, string? NewText, string Diff);

/// <summary>A place a tool call concerns (a file, a line in it).</summary>
public sealed record ToolLocation(string Path, int? Line = null);

/// <summary><c>chat/tool</c>: one tool call of a turn, as it stands.</summary>
public sealed record ChatToolData
{
    public required string TurnId { get; init; }

    public required string ToolCallId { get; init; }

    public required string Kind { get; init; }

    public required string Title { get; init; }

    public required string Status { get; init; }

    public string? Command { get; init; }

    public string? Cwd { get; init; }

    /// <summary>The tail of the output (at most <see cref="MaxOutputChars"/>).</summary>
    public string? Output { get; init; }

    public bool? OutputTruncated { get; init; }

    public int? ExitCode { get; init; }

    public IReadOnlyList<ToolFile>? Files { get; init; }

    public IReadOnlyList<ToolLocation>? Locations { get; init; }

    /// <summary>How much output an event carries: the tail, so the end (errors, the summary) is kept.</summary>
    public const int MaxOutputChars = 16 * 1024;
}

/// <summary><c>chat/approval</c>'s <c>status</c>.</summary>
public static class ApprovalStatuses
{
    public const string Pending = "pending";
    public const string Allowed = "allowed";
    public const string Rejected = "rejected";
    public const string Cancelled = "cancelled";
}

/// <summary>An approval option's <c>kind</c>.</summary>
public static class ApprovalOptionKinds
{
    public const string AllowOnce = "allow_once";
    public const string AllowAlways = "allow_always";
    public const string RejectOnce = "reject_once";
    public const string RejectAlways = "reject_always";

    public static bool Allows(string kind) => kind is AllowOnce or AllowAlways;
}

/// <summary>Who answered an approval: <c>chat</c> (<c>chat/approve</c>, or a cancel), <c>terminal</c> (keys typed into the agent), <c>agent</c> (it went away by itself).</summary>
public static class ApprovalResolvers
{
    public const string Chat = "chat";
    public const string Terminal = "terminal";
    public const string Agent = "agent";
}

public sealed record ApprovalOption(string OptionId, string Label, string Kind);

/// <summary><c>chat/approval</c>: a question the agent asks before it acts, as it stands.</summary>
public sealed record ChatApprovalData
{
    public required string TurnId { get; init; }

    public required string ApprovalId { get; init; }

    public string? ToolCallId { get; init; }

    public required string Title { get; init; }

    public required string Detail { get; init; }

    public required IReadOnlyList<ApprovalOption> Options { get; init; }

    public required string Status { get; init; }

    public string? ResolvedBy { get; init; }

    public string? OptionId { get; init; }
}

/// <summary><c>chat/plan</c>'s entry <c>status</c>.</summary>
public static class PlanStatuses
{
    public const string Pending = "pending";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
}

public sealed record PlanEntry(string Text, string Status);

/// <summary><c>chat/plan</c>: the agent's plan for the turn, whole, each time it changes.</summary>
public sealed record ChatPlanData(string TurnId, IReadOnlyList<PlanEntry> Entries);
