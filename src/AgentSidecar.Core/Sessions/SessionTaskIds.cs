using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// <c>session/setTaskId</c>: links a session (live, suspended, ended or imported) to the user's task,
/// or unlinks it (null). Only the row changes: metrics records written from then on (usage, END,
/// the START of a resume) carry the new task id; records already written keep the one they had
/// (the outbox is append-only, and a receiver links them by <c>sessionId</c>). Workers already
/// running keep the <c>AGENT_SIDECAR_TASK_ID</c> they started with (an environment cannot change).
/// </summary>
internal sealed class SessionTaskIds(SessionContext ctx)
{
    public async Task<SessionView> SetAsync(string sessionId, string? taskId)
    {
        if (ctx.Registry.TryGet(sessionId, out var live))
        {
            return await SetLiveAsync(live, taskId).ConfigureAwait(false);
        }

        var row = ctx.GetRow(sessionId);
        SessionRegistry.EnsureNotForeign(row);

        // Not live here: a compare-free write of the one column on the row as it is in this
        // transaction, unless it became live here meanwhile (then the live row is the one to change).
        var (updated, becameLive) = await ctx.Writer.WriteAsync(w =>
        {
            if (ctx.Registry.Contains(sessionId))
            {
                return (false, true);
            }

            if (w.GetSession(sessionId) is not { } current)
            {
                return (false, false);
            }

            w.UpdateSession(current with { TaskId = taskId, UpdatedAt = w.Now });
            return (true, false);
        }).ConfigureAwait(false);
        if (becameLive && ctx.Registry.TryGet(sessionId, out live))
        {
            return await SetLiveAsync(live, taskId).ConfigureAwait(false);
        }

        if (!updated)
        {
            throw new SidecarException(SidecarError.SessionNotFound, $"session '{sessionId}' not found");
        }

        ctx.NotifyChanged(sessionId);
        return ctx.Get(sessionId);
    }

    private async Task<SessionView> SetLiveAsync(LiveSession live, string? taskId)
    {
        var sessionId = live.Id;
        var now = ctx.Now();
        var movedOn = false;
        await live.UpdateAsync(ctx.Writer, r =>
        {
            // A /clear renamed the live session meanwhile: the id asked for is an ended row now.
            movedOn = r.Id != sessionId;
            return movedOn || r.TaskId == taskId ? null : r with { TaskId = taskId, UpdatedAt = now };
        }).ConfigureAwait(false);
        if (movedOn)
        {
            return await SetAsync(sessionId, taskId).ConfigureAwait(false);
        }

        ctx.NotifyChanged(live);
        return ctx.View(live);
    }
}
