using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>What becomes of a worktree session's worktree when the session is over.</summary>
internal sealed class SessionWorktrees(SessionContext ctx)
{
    /// <summary>
    /// An ended (or deleted) worktree session: the worktree is removed if it is clean (no uncommitted
    /// or untracked changes), else kept and reported. Its branch goes too unless it has new commits.
    /// </summary>
    public async Task<WorktreeOutcome?> FinishAsync(string sessionId)
    {
        var row = ctx.Store.GetSession(sessionId);
        if (row is not { WorktreeState: WorktreeStates.Active, WorktreePath: { } path })
        {
            return null;
        }

        WorktreeOutcome outcome;
        try
        {
            outcome = await Worktrees.RemoveIfCleanAsync(row.Workspace, path, row.WorktreeBranch, row.WorktreeBase, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SidecarException ex)
        {
            outcome = new WorktreeOutcome(path, row.WorktreeBranch, false, ex.Message, true);
        }

        var state = outcome.Removed ? WorktreeStates.Removed : WorktreeStates.Kept;
        await ctx.Writer.WriteAsync(w =>
        {
            // Changed only as found: two sidecars finishing an interrupted end record it once.
            if (w.GetSession(sessionId) is { WorktreeState: WorktreeStates.Active } current)
            {
                w.UpdateSession(current with { WorktreeState = state, UpdatedAt = w.Now });
                w.Append(Events.Events.Worktree(sessionId, state, outcome.Path, outcome.Branch, outcome.Reason));
            }

            return 0;
        }).ConfigureAwait(false);
        ctx.NotifyChanged(sessionId);
        return outcome;
    }
}
