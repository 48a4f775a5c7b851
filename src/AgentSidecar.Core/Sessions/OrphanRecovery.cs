using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Sessions whose sidecar died (crashed or killed): what is left of their processes is killed and
/// they become suspended with reason <c>owner-lost</c>, resumable.
/// </summary>
internal sealed partial class OrphanRecovery(SessionContext ctx)
{
    /// <summary>How often, and how many times, a leftover terminal session is checked after SIGKILL.</summary>
    private static readonly TimeSpan KillCheckInterval = TimeSpan.FromMilliseconds(10);

    private const int KillChecks = 100;

    /// <summary>Recovers every session whose owner is gone; returns their ids.</summary>
    public async Task<IReadOnlyList<string>> RecoverAllAsync()
    {
        var recovered = new List<string>();
        var candidates = ctx.Store.ListSessions(new SessionQuery { Statuses = [SessionStatuses.Created, SessionStatuses.Active], Limit = 10_000 });
        foreach (var row in candidates)
        {
            if (!ctx.Registry.Contains(row.Id) && !SessionRegistry.OwnerAlive(row) && await RecoverAsync(row).ConfigureAwait(false))
            {
                recovered.Add(row.Id);
            }
        }

        // A worktree session whose sidecar died while ending it: finish what the end began
        // (removed if clean, else kept and reported), as the end would have.
        foreach (var row in ctx.Store.EndedWithActiveWorktree(1000))
        {
            if (!ctx.Registry.Contains(row.Id) && !SessionRegistry.OwnerAlive(row))
            {
                await new SessionWorktrees(ctx).FinishAsync(row.Id).ConfigureAwait(false);
            }
        }

        return recovered;
    }

    /// <summary>
    /// Kills what is left of the session's processes (pid and start time must match, so a reused pid
    /// is never hit; the whole terminal session goes) and marks it suspended, in one transaction that
    /// re-reads the row: two sidecars recovering at once change it once. False if its owner lives.
    /// </summary>
    public async Task<bool> RecoverAsync(SessionRow row)
    {
        if (ctx.Registry.Contains(row.Id) || SessionRegistry.OwnerAlive(row))
        {
            return false;
        }

        var workers = ctx.Store.ListWorkers(row.Id);
        var killed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in workers.Where(w => w.Status == WorkerStatuses.Running && w.Pid is not null && w.PidStart is not null))
        {
            if (await KillLeftoverAsync(w.Pid!.Value, w.PidStart!.Value).ConfigureAwait(false))
            {
                killed.Add(w.Id);
            }
        }

        var now = ctx.Now();
        var recovered = false;
        await ctx.Writer.WriteAsync(w =>
        {
            // Another sidecar may have recovered it meanwhile: change it only as we found it.
            var current = w.GetSession(row.Id);
            if (current is null || !SessionStatuses.IsRunning(current.Status) || current.OwnerPid != row.OwnerPid || current.OwnerStart != row.OwnerStart)
            {
                return 0;
            }

            foreach (var worker in workers.Where(x => x.Status == WorkerStatuses.Running))
            {
                var signal = killed.Contains(worker.Id) ? ProcessInfo.SigKill : (int?)null;
                w.UpsertWorker(worker with { Status = WorkerStatuses.Exited, Signal = signal, ExitedAt = now, Resume = true });
                w.Append(Events.Events.Exit(row.Id, worker.Id, null, signal, "owner-lost"));
            }

            // A turn that was running when the sidecar died can never end now: say so in the log,
            // so clients do not show it as running forever.
            if (Chat.ChatEvents.CloseOpenTurn(w, row.Id, "owner-lost") is { } closed)
            {
                w.Append(closed);
            }

            var suspended = current with { Status = SessionStatuses.Suspended, StatusReason = "owner-lost", UpdatedAt = now };
            w.UpdateSession(suspended);
            w.Append(Events.Events.Status(row.Id, SessionStatuses.Suspended, "owner-lost", current.Status));
            MetricsRecords.End(w, suspended with { EndedAt = now }, MetricsRecords.Suspend);
            recovered = true;
            return 0;
        }).ConfigureAwait(false);
        if (recovered)
        {
            LogOrphanRecovered(ctx.Logger, row.Id, row.OwnerPid ?? 0, killed.Count);
            ctx.Hub.TryGet(row.Id)?.Wake();
            ctx.NotifyChanged(row.Id);
            ctx.MetricsTrigger?.Invoke();
        }

        return recovered;
    }

    /// <summary>
    /// Kills what is left of a worker's terminal session: its leader if it is still the same process
    /// (pid and start time), and any process still in that session (also after the leader died, e.g.
    /// a background job that ignored SIGHUP; a reused pid never matches). True if anything was there.
    /// </summary>
    private async Task<bool> KillLeftoverAsync(int pid, long startTime)
    {
        if (ProcessInfo.SignalOrphanedSession(pid, startTime, ProcessInfo.SigKill) == 0)
        {
            return false;
        }

        for (var i = 0; i < KillChecks && ProcessInfo.SignalOrphanedSession(pid, startTime, ProcessInfo.SigKill) > 0; i++)
        {
            await Task.Delay(KillCheckInterval, ctx.Clock).ConfigureAwait(false);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "session {SessionId} lost its sidecar (pid {OwnerPid}): {Killed} leftover process(es) killed, now suspended")]
    private static partial void LogOrphanRecovered(ILogger logger, string sessionId, int ownerPid, int killed);
}
