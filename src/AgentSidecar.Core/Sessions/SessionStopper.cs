using System.Text;
using AgentSidecar.Core.Events;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Where a session stops: the one stop path behind exit, end, failure, suspend, reset, cleanup and
/// shutdown, and the graceful quit that comes first.
/// </summary>
internal sealed class SessionStopper(SessionContext ctx, SessionWorktrees worktrees)
{
    /// <summary>How long a running turn may take to stop before the agent is asked to quit anyway.</summary>
    private static readonly TimeSpan QuitCancelWait = TimeSpan.FromSeconds(2);

    /// <summary>Between the submit keys of a command that needs more than one (Auggie's menu).</summary>
    internal static readonly TimeSpan EnterGap = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Stops every worker, waits for their exits in the log, then writes the final status, its event
    /// and (when this period of the session has a START) the END metric in one commit; with
    /// <paramref name="movedTo"/> also the link to the session that takes its place and its final
    /// <c>system/transition</c>, so whoever reads the log sees it end and where it went at once.
    /// </summary>
    public async Task StopAsync(LiveSession live, string status, string reason, string? endReason, bool graceful = false, (string SessionId, string Trigger)? movedTo = null)
    {
        await live.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (live.Stopping || !ctx.Registry.Contains(live.Id))
            {
                return;
            }

            live.Stopping = true;
            var workers = live.Workers;
            // With those a stop whose commit failed had stopped (a retried suspend restarts them on resume too).
            var running = workers.Where(w => w.Process is { HasExited: false }).Select(w => w.Id).Concat(live.StoppedUnrecorded).ToHashSet(StringComparer.Ordinal);
            if (graceful)
            {
                await QuitAgentAsync(live).ConfigureAwait(false);
            }

            await Task.WhenAll(workers.Select(w => w.Process?.StopAsync(ctx.Options.StopGrace) ?? Task.FromResult(default(PtyExit)))).ConfigureAwait(false);
            await Task.WhenAll(workers.Select(w => w.ExitRecorded.Task)).ConfigureAwait(false);
            if (live.Chat is { } chat)
            {
                await chat.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var w in workers)
            {
                w.Screen?.Attachment?.Stop(DetachReasons.Closed);
            }

            // Suspended: the workers that were running start again on resume.
            var resumable = status == SessionStatuses.Suspended ? workers.Where(w => running.Contains(w.Id)).ToList() : [];
            var ended = SessionStatuses.IsEnded(status);
            var writeEnd = endReason is not null && live.Tracking;
            var now = ctx.Now();
            SessionRow? row;
            try
            {
                row = await live.UpdateAsync(ctx.Writer, r => r with { Status = status, StatusReason = reason, EndedAt = ended ? now : null, UpdatedAt = now, TransitionedTo = movedTo?.SessionId ?? r.TransitionedTo }, (w, before, after) =>
                {
                    foreach (var worker in resumable)
                    {
                        w.UpsertWorker(worker.Row with { Resume = true });
                    }

                    w.Append(Events.Events.Status(after.Id, status, reason, before.Status));
                    if (writeEnd)
                    {
                        MetricsRecords.End(w, after with { EndedAt = after.EndedAt ?? w.Now }, endReason!);
                    }

                    if (movedTo is { } next)
                    {
                        w.Append(SessionTransitions.Transition(after.Id, null, next.SessionId, next.Trigger));
                    }
                }).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw NotRecorded(live, status, running, ex);
            }

            foreach (var w in resumable)
            {
                w.Row = w.Row with { Resume = true };
            }

            live.Tracking = false;
            ctx.MetricsTrigger?.Invoke();
            ctx.Registry.Remove(live, workers);
            ctx.Hub.TryGet(live.Id)?.Wake();
            ctx.NotifyChanged(ctx.ViewStored(ctx.GetRow(live.Id)));
            if (ended && row?.WorktreeState == WorktreeStates.Active)
            {
                await worktrees.FinishAsync(live.Id).ConfigureAwait(false);
            }
        }
        finally
        {
            live.Gate.Release();
        }
    }

    /// <summary>
    /// The final commit failed (the disk is full, the database stayed locked past the writer's
    /// bound…) after the processes were stopped. Problem (issue 16): the session was left
    /// half-stopped: its processes dead, live in memory with <see cref="LiveSession.Stopping"/> set
    /// (so every later suspend or end returned at once, "successfully", and changed nothing), and
    /// <c>active</c> in the database. Solution: memory is brought back to what the database says (a
    /// live session of this sidecar, its workers exited as their exit events recorded), so the
    /// client can ask again once the cause is gone, and the client is told exactly that. The
    /// processes cannot be brought back; recording them stopped needs a write that works.
    /// </summary>
    private IOException NotRecorded(LiveSession live, string status, IReadOnlySet<string> running, Exception cause)
    {
        live.StoppedUnrecorded = running;
        // The chat was disposed with its agent: a chat/send now finds none rather than a disposed one.
        live.Chat = null;
        live.Stopping = false;
        ctx.NotifyChanged(live);
        return new IOException(
            $"session {live.Id}: its processes stopped, but its new status ({status}) could not be recorded: {cause.Message.TrimEnd('.')}. "
            + "It stays active here (no process runs); ask again to suspend or end it once the cause is fixed",
            cause);
    }

    /// <summary>Stops every live session (sidecar shutdown, or the end of a CLI-started sidecar).</summary>
    public async Task StopAllAsync(string status, string reason)
    {
        var endReason = status == SessionStatuses.Suspended ? MetricsRecords.Suspend : MetricsRecords.Exit;
        await Task.WhenAll(ctx.Registry.Sessions.ToList().Select(s => StopAsync(s, status, reason, endReason, graceful: true))).ConfigureAwait(false);
        await ctx.Writer.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the agent to quit the way a user would (its quit command; a running turn is interrupted
    /// first), so it saves its conversation; <see cref="StopAsync"/> then sends SIGHUP and SIGKILL to
    /// whatever is still running.
    /// </summary>
    private async Task QuitAgentAsync(LiveSession live)
    {
        if (live.Profile is not { Quit: { } quit } profile || live.Agent is not { Process: { HasExited: false } process })
        {
            return;
        }

        try
        {
            if (live.Chat is { Busy: true } chat)
            {
                await chat.CancelAsync().ConfigureAwait(false);
                await chat.WaitIdleAsync(QuitCancelWait).ConfigureAwait(false);
            }

            process.Write(Encoding.UTF8.GetBytes(quit));
            for (var i = 0; i < profile.QuitEnters; i++)
            {
                await Task.Delay(i == 0 ? TimeSpan.FromMilliseconds(profile.Input.SubmitDelayMs) : EnterGap, ctx.Clock).ConfigureAwait(false);
                process.Write(Encoding.UTF8.GetBytes(profile.Input.Submit));
            }

            await Task.WhenAny(process.Exited, Task.Delay(ctx.Options.QuitTimeout, ctx.Clock)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The agent went away meanwhile: the signals after this find nothing to do.
        }
    }
}
