using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Which sessions <c>session/resume</c> takes, and what an ended one needs to be continued.
/// Problem: a session whose agent exited, crashed, was quit (<c>/quit</c>) or was ended with
/// <c>session/end</c> could never be continued, though the agent's conversation is on disk.
/// Solution: an ended session is continued as the same session (same id, same workers, its log
/// goes on), with a new tracking period: its END was written when it ended, the continue writes a
/// new START once the agent is ready, so START/END stay paired (the same as suspend/resume). It
/// needs what a resume needs to find the conversation again: a provider with resume arguments and
/// the agent's conversation id recorded. A purged session has no row left (1001).
/// </summary>
internal static class SessionContinuation
{
    /// <summary>The <c>statusReason</c> of a session that was continued after it had ended.</summary>
    public const string ContinuedReason = "continued";

    /// <summary>Whether a session in <paramref name="status"/> can be taken by <c>session/resume</c> at all.</summary>
    public static bool Takes(string status) => status == SessionStatuses.Suspended || SessionStatuses.IsEnded(status);

    /// <summary>
    /// Throws 1004 (with <c>data.reason</c>) when <paramref name="row"/> cannot be resumed or
    /// continued; <paramref name="profile"/> is its provider as configured now.
    /// </summary>
    public static void EnsureResumable(SessionRow row, ProviderProfile profile)
    {
        if (row.Status == SessionStatuses.Suspended)
        {
            return;
        }

        if (!SessionStatuses.IsEnded(row.Status))
        {
            throw Refused(row, "status", $"session {row.Id} is {row.Status}; only suspended or ended sessions resume");
        }

        if (row.TransitionedTo is { } next)
        {
            // The agent moved on to a new conversation in the same process (a /clear), or another
            // agent or model took the session's place (a replacement): that one is the live line.
            throw row.StatusReason == MetricsRecords.Clear
                ? Refused(row, "cleared", $"session {row.Id} was cleared (/clear): its agent went on in session {next}; continue that one", ("transitionedTo", next))
                : Refused(row, "replaced", $"session {row.Id} was replaced by session {next} (another agent or model); continue that one", ("transitionedTo", next));
        }

        if (!profile.IsAgent || profile.ResumeArgs.Count == 0)
        {
            throw Refused(row, "no-resume", $"session {row.Id} cannot be continued: provider '{profile.Id}' has no conversation to resume (no resumeArgs); start a new session");
        }

        if (string.IsNullOrEmpty(row.AgentSessionId))
        {
            throw Refused(row, "no-conversation", $"session {row.Id} cannot be continued: no agent conversation was recorded for it (no message was answered); start a new session");
        }

        if (row.WorktreePath is { } wt && (row.WorktreeState is not (WorktreeStates.Active or WorktreeStates.Kept) || !Directory.Exists(wt)))
        {
            throw Refused(row, "worktree-removed", $"session {row.Id} cannot be continued: its worktree {wt} was removed when it ended");
        }
    }

    /// <summary>The row of an ended session made live again: no end time, a kept worktree in use again.</summary>
    public static SessionRow Reopen(SessionRow row) =>
        SessionStatuses.IsEnded(row.Status)
            ? row with { EndedAt = null, WorktreeState = row.WorktreeState == WorktreeStates.Kept ? WorktreeStates.Active : row.WorktreeState }
            : row;

    private static SidecarException Refused(SessionRow row, string reason, string message, (string Key, object? Value)? extra = null)
    {
        var data = new Dictionary<string, object?> { ["reason"] = reason, ["status"] = row.Status };
        if (extra is { } e)
        {
            data[e.Key] = e.Value;
        }

        return new SidecarException(SidecarError.InvalidState, message, data);
    }
}
