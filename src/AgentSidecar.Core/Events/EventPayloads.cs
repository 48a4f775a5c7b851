using System.Text.Json;
using System.Text.Json.Serialization;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Events;

/// <summary>The worker as it appears inside events (same fields as the protocol's Worker).</summary>
public sealed record WorkerSnapshot
{
    public required string Id { get; init; }

    public required string SessionId { get; init; }

    public required string Kind { get; init; }

    public required string Name { get; init; }

    public required string Status { get; init; }

    public int? Pid { get; init; }

    public int? ExitCode { get; init; }

    public int? Signal { get; init; }

    public int Cols { get; init; }

    public int Rows { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public string? Cwd { get; init; }

    public static WorkerSnapshot From(WorkerRow w) => new()
    {
        Id = w.Id,
        SessionId = w.SessionId,
        Kind = w.Kind,
        Name = w.Name,
        Status = w.Status,
        Pid = w.Pid,
        ExitCode = w.ExitCode,
        Signal = w.Signal,
        Cols = w.Cols,
        Rows = w.Rows,
        Command = w.Command,
        Args = w.Args,
        Cwd = w.Cwd,
    };
}

public sealed record StatusData(string Status, string? Reason, string? Previous);

public sealed record WorkerEventData(string Action, WorkerSnapshot Worker);

/// <summary>A worker's exit; <c>Reason</c> <c>owner-lost</c>: its sidecar died and the next one ended what was left.</summary>
public sealed record ExitData(int? ExitCode, int? Signal, string? Reason = null);

public sealed record ResizeData(int Cols, int Rows);

/// <summary>An error; <c>LostBytes</c> with <c>source:"store"</c>: output that could not be recorded (written by the store writer itself).</summary>
public sealed record ErrorData(string Message, string? Source, string? Tail, long? LostBytes = null);

/// <summary>Terminal output as text (written by the store writer straight from the PTY's bytes, in this shape).</summary>
public sealed record OutputData(string Data);

/// <summary>A worktree session's worktree: <c>created</c>, <c>removed</c> or <c>kept</c> (with the reason).</summary>
public sealed record WorktreeData(string Action, string Path, string? Branch, string? Reason);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StatusData))]
[JsonSerializable(typeof(WorkerEventData))]
[JsonSerializable(typeof(ExitData))]
[JsonSerializable(typeof(ResizeData))]
[JsonSerializable(typeof(ErrorData))]
[JsonSerializable(typeof(WorktreeData))]
[JsonSerializable(typeof(OutputData))]
internal sealed partial class EventJsonContext : JsonSerializerContext;

/// <summary>Builders for the events the core writes (channel, type and payload in one place).</summary>
public static class Events
{
    public static EventDraft Status(string sessionId, string status, string? reason, string? previous) =>
        new(sessionId, Channels.System, EventTypes.Status, null, JsonSerializer.SerializeToUtf8Bytes(new StatusData(status, reason, previous), EventJsonContext.Default.StatusData));

    public static EventDraft Worker(string sessionId, string action, WorkerRow worker) =>
        new(sessionId, Channels.System, EventTypes.Worker, worker.Id, JsonSerializer.SerializeToUtf8Bytes(new WorkerEventData(action, WorkerSnapshot.From(worker)), EventJsonContext.Default.WorkerEventData));

    public static EventDraft Exit(string sessionId, string workerId, int? exitCode, int? signal, string? reason = null) =>
        new(sessionId, Channels.Pty, EventTypes.Exit, workerId, JsonSerializer.SerializeToUtf8Bytes(new ExitData(exitCode, signal, reason), EventJsonContext.Default.ExitData));

    public static EventDraft Resize(string sessionId, string workerId, int cols, int rows) =>
        new(sessionId, Channels.Pty, EventTypes.Resize, workerId, JsonSerializer.SerializeToUtf8Bytes(new ResizeData(cols, rows), EventJsonContext.Default.ResizeData));

    public static EventDraft Worktree(string sessionId, string action, string path, string? branch, string? reason) =>
        new(sessionId, Channels.System, EventTypes.Worktree, null, JsonSerializer.SerializeToUtf8Bytes(new WorktreeData(action, path, branch, reason), EventJsonContext.Default.WorktreeData));

    public static EventDraft Error(string sessionId, string? workerId, string message, string? source = null, string? tail = null) =>
        new(sessionId, Channels.System, EventTypes.Error, workerId, JsonSerializer.SerializeToUtf8Bytes(new ErrorData(message, source, tail), EventJsonContext.Default.ErrorData));
}
