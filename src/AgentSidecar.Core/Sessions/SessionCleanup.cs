using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>What <c>session/reset</c> and <c>session/cleanup</c> did.</summary>
public sealed record CleanupResult(IReadOnlyList<string> Ended, IReadOnlyList<string> Purged);

/// <summary>Ending many sessions at once (reset), idle ones (cleanup), and deleting stored ones.</summary>
internal sealed class SessionCleanup(SessionContext ctx, SessionStopper stopper, SessionEvents events, SessionWorktrees worktrees)
{
    /// <summary>Sessions purged per cleanup call at most (the next run takes the rest).</summary>
    private const int PurgeBatch = 500;

    /// <summary>Idle sessions a cleanup stops at once: enough to overlap their waits, few enough not to signal thousands of processes in one burst.</summary>
    private const int MaxConcurrentStops = 64;

    /// <summary>
    /// <c>session/reset</c>: ends every live session of <paramref name="workspace"/> (of one provider, or
    /// all) at once. If any is running a turn, nothing is ended and 1003 names the busy ones.
    /// </summary>
    public async Task<IReadOnlyList<string>> ResetAsync(string workspace, string? provider)
    {
        var ws = Workspace.Validate(workspace);
        var matching = ctx.Registry.Sessions
            .Where(s => s.Row.Workspace == ws && (provider is null || s.Row.Provider == provider) && !s.Stopping)
            .ToList();

        // Atomic: hold every matching session's turns closed while checking, so none starts meanwhile.
        var held = new List<Chat.ChatController>();
        var busy = new List<string>();
        foreach (var s in matching)
        {
            if (s.Chat is not { } chat)
            {
                continue;
            }

            if (await chat.TryHoldTurnsAsync().ConfigureAwait(false))
            {
                held.Add(chat);
            }
            else
            {
                busy.Add(s.Id);
            }
        }

        if (busy.Count > 0)
        {
            foreach (var chat in held)
            {
                chat.ReleaseTurns();
            }

            throw new SidecarException(SidecarError.SessionBusy, $"{busy.Count} session(s) are running a turn: {string.Join(", ", busy)}; nothing was reset (cancel the turns or wait, then reset again)", new Dictionary<string, object?> { ["busy"] = busy });
        }

        await Task.WhenAll(matching.Select(s => stopper.StopAsync(s, SessionStatuses.Completed, "reset", MetricsRecords.Reset, graceful: true))).ConfigureAwait(false);
        return matching.Select(s => s.Id).ToList();
    }

    /// <summary>
    /// <c>session/cleanup</c>: suspends live sessions idle for longer than <paramref name="idle"/> (not
    /// running a turn) and deletes ended sessions older than <paramref name="purgeOlderThan"/>.
    /// </summary>
    public async Task<CleanupResult> CleanupAsync(TimeSpan idle, TimeSpan? purgeOlderThan)
    {
        var now = ctx.Now();
        var idleCutoff = now - (long)idle.TotalMilliseconds;
        var idleSessions = new List<LiveSession>();
        foreach (var live in ctx.Registry.Sessions.ToList())
        {
            if (live.Stopping || live.Row.Status != SessionStatuses.Active || Math.Max(live.Row.LastActivityAt, LastOutputAt(live)) > idleCutoff
                || (live.Chat is { } chat && !await chat.TryHoldTurnsAsync().ConfigureAwait(false)))
            {
                continue;
            }

            idleSessions.Add(live);
        }

        // Problem: one stop after another, each waiting for its processes to exit (an agent's quit
        // up to its timeout), made a cleanup of many sessions last minutes. Solution: the stops
        // overlap, a bounded number at a time (as reset's, which stops all at once).
        await Parallel.ForEachAsync(idleSessions, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentStops }, async (live, _) =>
            await stopper.StopAsync(live, SessionStatuses.Suspended, "idle", MetricsRecords.Cleanup, graceful: true).ConfigureAwait(false)).ConfigureAwait(false);
        var suspended = idleSessions.Select(s => s.Id).ToList();

        var purged = new List<string>();
        if (purgeOlderThan is { } age)
        {
            var cutoff = now - (long)age.TotalMilliseconds;
            foreach (var id in ctx.Store.EndedBefore(cutoff, PurgeBatch))
            {
                if (!ctx.Registry.Contains(id) && await PurgeAsync(id, cutoff).ConfigureAwait(false))
                {
                    purged.Add(id);
                }
            }
        }

        return new CleanupResult(suspended, purged);
    }

    /// <summary>Deletes a stored session that does not run; its worktree goes if clean.</summary>
    public async Task<WorktreeOutcome?> DeleteStoredAsync(string sessionId)
    {
        var outcome = await worktrees.FinishAsync(sessionId).ConfigureAwait(false);

        // Not if it was resumed or continued meanwhile (here or by another sidecar): it runs again.
        var deleted = await ctx.Writer.WriteAsync(w =>
        {
            if (ctx.Registry.Contains(sessionId) || (w.GetSession(sessionId) is { } current && SessionStatuses.IsRunning(current.Status)))
            {
                return false;
            }

            w.DeleteSession(sessionId);
            return true;
        }).ConfigureAwait(false);
        if (!deleted)
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} was resumed while it was being deleted; end it first (session/end)");
        }

        events.DetachAll(sessionId, Events.DetachReasons.Deleted);
        ctx.Hub.Remove(sessionId);
        return outcome;
    }

    /// <summary>
    /// Deletes an ended session unless it was continued since the list was read. Problem: an ended
    /// session can be continued (SessionContinuation), here or by another sidecar on the same data,
    /// between the read of the old ended sessions and the delete. Solution: the delete re-checks, in
    /// its own transaction, that the row is still ended before the cutoff and not live here.
    /// </summary>
    private async Task<bool> PurgeAsync(string sessionId, long cutoff)
    {
        // A worktree still recorded in use (its sidecar died while ending it) is finished first, as
        // a delete does; only while the session is still ended, since a continued one uses it again.
        if (ctx.Store.GetSession(sessionId) is { } row && SessionStatuses.IsEnded(row.Status))
        {
            await worktrees.FinishAsync(sessionId).ConfigureAwait(false);
        }

        var deleted = await ctx.Writer.WriteAsync(w =>
        {
            if (ctx.Registry.Contains(sessionId) || w.GetSession(sessionId) is not { } current
                || !SessionStatuses.IsEnded(current.Status) || current.EndedAt is not { } endedAt || endedAt >= cutoff)
            {
                return false;
            }

            w.DeleteSession(sessionId);
            return true;
        }).ConfigureAwait(false);
        if (deleted)
        {
            events.DetachAll(sessionId, Events.DetachReasons.Deleted);
            ctx.Hub.Remove(sessionId);
        }

        return deleted;
    }

    private static long LastOutputAt(LiveSession live) =>
        live.Workers.Select(w => w.LastOutputAt).DefaultIfEmpty(0).Max();
}
