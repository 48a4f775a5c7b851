using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Problem: a sidecar killed with SIGKILL cannot stop its workers; the hang-up of their terminals
/// ends most of them, but not a process that ignores SIGHUP (found by the SIGKILL fault test).
/// Solution: at start, every worker still recorded as running in a session whose owning sidecar is
/// dead gets what a stop would have given it: SIGHUP to its terminal session, SIGKILL after a grace.
/// The rows are left as they are (an orphaned session reads as not live; resume decides the rest).
/// </summary>
public static partial class OrphanReaper
{
    private static readonly string[] LiveStatuses = ["created", "active"];

    public static async Task<int> ReapAsync(SidecarStore store, TimeSpan grace, ILogger logger)
    {
        var orphans = store.ListSessions(new SessionQuery { Statuses = LiveStatuses, Limit = 1_000_000 })
            .Where(s => s.OwnerPid is not int pid || s.OwnerStart is not long start || !ProcessInfo.IsAlive(pid, start))
            .ToList();
        if (orphans.Count == 0)
        {
            return 0;
        }

        var workers = store.ListWorkers(orphans.Select(s => s.Id)).Values.SelectMany(w => w)
            .Where(w => w.Status == "running" && w.Pid is not null && w.PidStart is not null)
            .ToList();
        var signalled = workers.Sum(w => ProcessInfo.SignalOrphanedSession(w.Pid!.Value, w.PidStart!.Value, ProcessInfo.SigHup));
        if (signalled == 0)
        {
            return 0;
        }

        LogReaping(logger, signalled, orphans.Count);
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && workers.Any(w => ProcessInfo.SessionMembers(w.Pid!.Value).Count > 0))
        {
            await Task.Delay(50).ConfigureAwait(false);
        }

        foreach (var w in workers)
        {
            ProcessInfo.SignalOrphanedSession(w.Pid!.Value, w.PidStart!.Value, ProcessInfo.SigKill);
        }

        return signalled;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "stopping {Count} processes left running by a sidecar that died (in {Sessions} sessions)")]
    private static partial void LogReaping(ILogger logger, int count, int sessions);
}
