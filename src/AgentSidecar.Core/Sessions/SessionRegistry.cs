using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// The sessions and workers this sidecar runs, by id, and who owns the others: the one place that
/// answers "is it live here, live elsewhere, or stored only".
/// </summary>
internal sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<string, LiveSession> _live = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LiveWorker> _workers = new(StringComparer.Ordinal);

    public int Count => _live.Count;

    public ICollection<LiveSession> Sessions => _live.Values;

    public bool Contains(string sessionId) => _live.ContainsKey(sessionId);

    public bool TryGet(string sessionId, [NotNullWhen(true)] out LiveSession? live) => _live.TryGetValue(sessionId, out live);

    public bool TryGetWorker(string workerId, [NotNullWhen(true)] out LiveWorker? worker) => _workers.TryGetValue(workerId, out worker);

    public void Add(LiveSession live) => _live[live.Id] = live;

    public void AddWorker(LiveWorker worker) => _workers[worker.Id] = worker;

    /// <summary>A transition: the same live session goes on under its new id.</summary>
    public void Rename(string oldId, LiveSession live)
    {
        _live[live.Id] = live;
        _live.TryRemove(oldId, out _);
    }

    /// <summary>The session stopped: it and its workers are no longer live here.</summary>
    public void Remove(LiveSession live, IEnumerable<LiveWorker> workers)
    {
        _live.TryRemove(live.Id, out _);
        foreach (var w in workers)
        {
            _workers.TryRemove(w.Id, out _);
        }
    }

    /// <summary>A live session, or 1004 saying why not (ended, suspended, or another sidecar's).</summary>
    public LiveSession GetLive(string sessionId, SidecarStore store)
    {
        if (_live.TryGetValue(sessionId, out var live))
        {
            return live;
        }

        var row = store.GetSession(sessionId) ?? throw new SidecarException(SidecarError.SessionNotFound, $"session '{sessionId}' not found");
        EnsureNotForeign(row);
        throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is {row.Status}: it has no running processes");
    }

    /// <summary>A running worker, or 1002/1004 saying why not.</summary>
    public LiveWorker GetLiveWorker(string workerId, SidecarStore store)
    {
        if (_workers.TryGetValue(workerId, out var w) && w.Process is not null && !w.Process.HasExited)
        {
            return w;
        }

        var row = w?.Row ?? store.GetWorker(workerId) ?? throw new SidecarException(SidecarError.WorkerNotFound, $"worker '{workerId}' not found");
        if (store.GetSession(row.SessionId) is { } session)
        {
            EnsureNotForeign(session);
        }

        throw new SidecarException(SidecarError.InvalidState, $"worker {workerId} has exited");
    }

    /// <summary>A session that is live in another running sidecar is that sidecar's to change.</summary>
    public static void EnsureNotForeign(SessionRow row)
    {
        if (SessionStatuses.IsRunning(row.Status) && row.OwnerPid is { } pid && row.OwnerStart is { } start
            && (pid != ProcessInfo.CurrentPid || start != ProcessInfo.CurrentStartTime) && ProcessInfo.IsAlive(pid, start))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {row.Id} is owned by another running sidecar (pid {pid}); connect to it at {row.OwnerSocket ?? "its socket"}", new Dictionary<string, object?>
            {
                ["owner"] = new Dictionary<string, object?> { ["pid"] = pid, ["startTime"] = start, ["socket"] = row.OwnerSocket },
            });
        }
    }

    /// <summary>Whether the sidecar recorded as the session's owner still runs (this one counts).</summary>
    public static bool OwnerAlive(SessionRow row) =>
        row.OwnerPid is { } pid && row.OwnerStart is { } start
        && ((pid == ProcessInfo.CurrentPid && start == ProcessInfo.CurrentStartTime) || ProcessInfo.IsAlive(pid, start));
}
