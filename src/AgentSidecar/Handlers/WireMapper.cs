using System.Globalization;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Protocol;
using AgentSidecar.Store;

namespace AgentSidecar.Handlers;

/// <summary>Domain → wire records. The only place that knows both.</summary>
internal static class WireMapper
{
    private const string TsFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Ts(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString(TsFormat, CultureInfo.InvariantCulture);

    /// <summary><see cref="Ts"/> as UTF-8 into <paramref name="utf8"/>, without a string.</summary>
    public static bool TryFormatTs(long unixMs, Span<byte> utf8, out int written) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.TryFormat(utf8, out written, TsFormat, CultureInfo.InvariantCulture);

    public static Session ToWire(SessionView v) => new()
    {
        Id = v.Row.Id,
        Workspace = v.Row.Workspace,
        Provider = v.Row.Provider,
        Model = v.Row.Model,
        TaskId = v.Row.TaskId,
        Kind = v.Row.Kind,
        Status = v.Row.Status,
        StatusReason = v.Row.StatusReason,
        Title = v.Row.Title,
        CreatedAt = Ts(v.Row.CreatedAt),
        UpdatedAt = Ts(v.Row.UpdatedAt),
        EndedAt = v.Row.EndedAt is { } e ? Ts(e) : null,
        TransitionedFrom = v.Row.TransitionedFrom,
        TransitionedTo = v.Row.TransitionedTo,
        AgentSessionId = v.Row.AgentSessionId,
        Busy = v.Busy,
        Waiting = v.Waiting,
        LastSeq = v.Row.LastSeq,
        Owner = (v.Live || v.Row.Status is "created" or "active") && v.Row.OwnerPid is { } pid ? new Owner { Pid = pid, StartTime = v.Row.OwnerStart ?? 0, Socket = v.Row.OwnerSocket } : null,
        Worktree = v.Row.WorktreePath is { } wt ? new WorktreeInfo { Path = wt, Branch = v.Row.WorktreeBranch, State = v.Row.WorktreeState ?? "active" } : null,
        Workers = v.Workers.Select(ToWire).ToList(),
    };

    public static Worker ToWire(WorkerRow w) => new()
    {
        Id = w.Id,
        SessionId = w.SessionId,
        Kind = w.Kind,
        Name = w.Name,
        Status = w.Status,
        Pid = w.Status == "running" ? w.Pid : null,
        ExitCode = w.ExitCode,
        Signal = w.Signal,
        Cols = w.Cols,
        Rows = w.Rows,
        Command = w.Command,
        Args = w.Args,
        Cwd = w.Cwd,
    };

    public static EventRecord ToWire(StoredEvent e) => new()
    {
        SessionId = e.SessionId,
        Seq = e.Seq,
        Ts = Ts(e.Ts),
        Channel = e.Channel,
        Type = e.Type,
        WorkerId = e.WorkerId,
        Data = new RawJson(e.Data),
    };
}
