using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Metrics;

public sealed record UsageDelta(int Turns, long InputTokens, long OutputTokens, long CachedInputTokens, int ToolCalls, long ActiveMs);

/// <summary>One metrics record as it is stored and sent (docs/metrics.md).</summary>
public sealed record MetricsRecord
{
    public required string Id { get; init; }

    public required string Kind { get; init; }

    public required string Ts { get; init; }

    public required string SessionId { get; init; }

    public string? AgentSessionId { get; init; }

    public required string Provider { get; init; }

    public string? Model { get; init; }

    public required string Workspace { get; init; }

    public string? TaskId { get; init; }

    public required string StartedAt { get; init; }

    public string? EndedAt { get; init; }

    /// <summary>For <c>end</c>: exit, clear, suspend, reset, cleanup or failed.</summary>
    public string? Reason { get; init; }

    public string? TransitionedFrom { get; init; }

    public string? TransitionedTo { get; init; }

    public UsageDelta? Usage { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MetricsRecord))]
internal sealed partial class MetricsJsonContext : JsonSerializerContext;

/// <summary>
/// Writes a metrics record into the outbox and a <c>metrics/*</c> event into the session's log, both
/// inside the caller's transaction: the record exists exactly when the state change does.
/// </summary>
public static class MetricsRecords
{
    public const string StartKind = "start";
    public const string EndKind = "end";
    public const string UsageKind = "usage";

    public const string Exit = "exit";
    public const string Clear = "clear";
    public const string Suspend = "suspend";
    public const string Reset = "reset";
    public const string Cleanup = "cleanup";
    public const string Failed = "failed";

    /// <summary>Another agent or model took the session's place (<c>session/start</c> with <c>replaces</c>).</summary>
    public const string Replaced = "replaced";

    public static void Start(WriteContext ctx, SessionRow row) =>
        Write(ctx, row, StartKind, null, null);

    public static void End(WriteContext ctx, SessionRow row, string reason) =>
        Write(ctx, row, EndKind, reason, null);

    public static void Usage(WriteContext ctx, SessionRow row, UsageDelta usage) =>
        Write(ctx, row, UsageKind, null, usage);

    private static void Write(WriteContext ctx, SessionRow row, string kind, string? reason, UsageDelta? usage)
    {
        var record = new MetricsRecord
        {
            Id = Guid.CreateVersion7().ToString(),
            Kind = kind,
            Ts = Iso(ctx.Now),
            SessionId = row.Id,
            AgentSessionId = row.AgentSessionId,
            Provider = row.Provider,
            Model = row.Model,
            Workspace = row.Workspace,
            TaskId = row.TaskId,
            StartedAt = Iso(row.CreatedAt),
            EndedAt = kind == EndKind ? Iso(row.EndedAt ?? ctx.Now) : null,
            Reason = reason,
            TransitionedFrom = row.TransitionedFrom,
            TransitionedTo = row.TransitionedTo,
            Usage = usage,
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(record, MetricsJsonContext.Default.MetricsRecord);
        MetricsOutbox.Add(ctx, new OutboxRecord(record.Id, row.Id, kind, json, ctx.Now, 0));
        ctx.Append(new EventDraft(row.Id, Channels.Metrics, kind, null, json));
    }

    private static string Iso(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
