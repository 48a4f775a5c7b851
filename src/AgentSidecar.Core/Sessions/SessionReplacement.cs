using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// <c>session/start</c> with <c>replaces</c>: another agent or model takes a session's place (the
/// ACP door's provider and model options). The replacement starts first, so one that cannot start
/// leaves the replaced session as it was. Once it is active, the replaced session ends (completed,
/// "replaced", END "replaced") and the two are linked the way a <c>/clear</c> links them
/// (<c>transitionedTo</c>/<c>transitionedFrom</c>, <c>system/transition</c> with trigger
/// "replace", <c>session/transitioned</c>), so whoever follows a chain (an ACP session id, the
/// Sessions view, <c>session/load</c>'s replay) follows the switch too. The conversation does not
/// carry over: the new agent starts its own; the MCP servers do.
/// </summary>
internal sealed class SessionReplacement(SessionContext ctx, SessionStopper stopper)
{
    public const string Reason = "replaced";

    private static Dictionary<string, object?> Field => new() { ["field"] = "replaces" };

    /// <summary>The session to replace, checked before anything starts (errors name the field <c>replaces</c>).</summary>
    public SessionRow Check(string sessionId, string workspace, string kind)
    {
        var row = ctx.Store.GetSession(sessionId)
            ?? throw new SidecarException(SidecarError.SessionNotFound, $"session '{sessionId}' (replaces) not found", Field);
        if (row.TransitionedTo is { } next)
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} was already followed by session {next} ({row.StatusReason}); replace the newest session of its chain", Field);
        }

        if (row.Kind == SessionKinds.Worktree || kind == SessionKinds.Worktree)
        {
            throw new SidecarException(SidecarError.InvalidArgument, "a worktree session cannot be replaced, nor replace another: end it and start a new one", Field);
        }

        if (!string.Equals(row.Workspace, workspace, StringComparison.Ordinal))
        {
            throw new SidecarException(SidecarError.InvalidArgument, $"session {sessionId} is in {row.Workspace}, not {workspace}: a replacement works in the same folder", Field);
        }

        SessionRegistry.EnsureNotForeign(row);
        return row;
    }

    /// <summary>
    /// <paramref name="fresh"/>, now active, takes the replaced session's place; if the replaced one
    /// changed meanwhile (moved on elsewhere), the new session is ended again (failed, with the
    /// reason), so a failed replacement leaves nothing running.
    /// </summary>
    public async Task TakeOverAsync(string replacedId, LiveSession fresh)
    {
        try
        {
            await LinkAsync(replacedId, fresh).ConfigureAwait(false);
        }
        catch (SidecarException ex)
        {
            await stopper.StopAsync(fresh, SessionStatuses.Failed, ex.Message, MetricsRecords.Failed).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends the replaced session and links it to <paramref name="fresh"/>.</summary>
    private async Task LinkAsync(string replacedId, LiveSession fresh)
    {
        if (ctx.Registry.TryGet(replacedId, out var old))
        {
            // Gracefully: the agent writes out its transcript, so the old conversation stays whole.
            // Its end and its link in one commit: an attachment that sees it end sees where it went.
            await stopper.StopAsync(old, SessionStatuses.Completed, Reason, MetricsRecords.Replaced, graceful: true, movedTo: (fresh.Id, TransitionTriggers.Replace)).ConfigureAwait(false);
        }

        var now = ctx.Now();
        ctx.Hub.Stream(replacedId, ctx.GetRow(replacedId).LastSeq);
        var linked = await fresh.UpdateAsync(ctx.Writer, r => r with { TransitionedFrom = replacedId, UpdatedAt = now }, (w, _, after) =>
        {
            // The replaced row as it is in this transaction: linked by its stop above, or (not live
            // here: suspended, or its sidecar gone) to be ended and linked now. Another sidecar or a
            // /clear may have moved it on since the check; then nothing is linked.
            var current = w.GetSession(replacedId);
            var linkedByStop = current?.TransitionedTo == after.Id;
            if (current is null || (current.TransitionedTo is not null && !linkedByStop) || (SessionStatuses.IsRunning(current.Status) && !ReplaceableNow(current)))
            {
                throw new SidecarException(SidecarError.InvalidState, $"session {replacedId} changed while it was being replaced (now {current?.Status ?? "deleted"}{(current?.TransitionedTo is { } to ? $", followed by {to}" : string.Empty)})", Field);
            }

            if (!linkedByStop)
            {
                var ended = SessionStatuses.IsEnded(current.Status);
                var next = current with
                {
                    Status = ended ? current.Status : SessionStatuses.Completed,
                    StatusReason = ended ? current.StatusReason : Reason,
                    EndedAt = current.EndedAt ?? now,
                    UpdatedAt = now,
                    TransitionedTo = after.Id,
                };
                w.UpdateSession(next);
                if (!ended)
                {
                    w.Append(Events.Events.Status(replacedId, next.Status, Reason, current.Status));
                }

                w.Append(SessionTransitions.Transition(replacedId, null, after.Id, TransitionTriggers.Replace));
            }

            w.Append(SessionTransitions.Transition(after.Id, replacedId, null, TransitionTriggers.Replace));
        }).ConfigureAwait(false);
        if (linked is null)
        {
            return;
        }

        var previous = ctx.ViewStored(ctx.GetRow(replacedId));
        var current = ctx.View(fresh);
        ctx.Hub.TryGet(replacedId)?.Wake();
        ctx.NotifyChanged(previous);
        ctx.NotifyChanged(current);
        ctx.NotifyTransitioned(previous, current);
    }

    /// <summary>A row still "running" that no live sidecar runs (its owner died): ending it is the replacement's to do.</summary>
    private static bool ReplaceableNow(SessionRow row) => !SessionRegistry.OwnerAlive(row);
}
