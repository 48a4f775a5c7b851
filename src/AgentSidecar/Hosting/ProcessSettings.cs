using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.Core;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Protocol;
using AgentSidecar.Store;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// The settings that belong to the whole process: config.json's, then the primary client's
/// <c>initializationOptions</c> on top. Only the primary client (the editor on stdio, which owns
/// this sidecar's lifetime) may change them; a socket client's <c>defaultProvider</c> applies to
/// its own connection and its other keys are ignored (and named in the initialize result), so a
/// CLI or a second editor attached for a moment never reconfigures the editor's sidecar.
/// </summary>
internal sealed partial class ProcessSettings(SidecarConfig config, ProviderRegistry providers, ILogger<ProcessSettings> logger) : IDisposable
{
    /// <summary>The keys only the primary client may set.</summary>
    public static readonly string[] ProcessKeys = ["providers", "metrics", "cleanup", "limits", "lingerSeconds"];

    private OtlpMetrics? _otlp;

    public string DefaultProvider { get; private set; } = "shell";

    /// <summary>The background cleanup's settings and <c>session/cleanup</c>'s defaults.</summary>
    public CleanupOptions Cleanup { get; private set; } = config.Cleanup;

    /// <summary>How long the sidecar outlives its editor while sessions are live (<see cref="Lingering"/>); zero: not at all.</summary>
    public TimeSpan Linger { get; private set; } = config.Linger;

    /// <summary>
    /// Applies the primary client's options: all are checked before any is applied, so a bad value
    /// (-32602 naming it) changes nothing. Provider problems are logged and shown by provider/list.
    /// </summary>
    public void ApplyPrimary(JsonElement? options, MetricsSync metrics, StoreWriter writer, SessionManager sessions)
    {
        if (options is not { ValueKind: JsonValueKind.Object } o)
        {
            return;
        }

        var metricsOptions = metrics.Options;
        (Uri Endpoint, TimeSpan Interval)? otlp = null;
        if (o.TryGetProperty("metrics", out var m))
        {
            (metricsOptions, otlp) = Checked("metrics", () => (MetricsOptions.Parse(m, metrics.Options), ParseOtlp(m)));
        }

        var cleanup = o.TryGetProperty("cleanup", out var c) ? Checked("cleanup", () => CleanupOptions.Parse(c, Cleanup)) : Cleanup;
        var limits = o.TryGetProperty("limits", out var l) ? Checked("limits", () => SidecarLimits.Parse(l, sessions.Limits)) : sessions.Limits;
        var linger = o.TryGetProperty("lingerSeconds", out var ls) ? Checked("lingerSeconds", () => SidecarConfig.ParseLinger(ls)) : Linger;

        if (o.TryGetProperty("defaultProvider", out var dp) && dp.ValueKind == JsonValueKind.String)
        {
            DefaultProvider = dp.GetString()!;
        }

        metrics.Options = metricsOptions;
        Cleanup = cleanup;
        sessions.Limits = limits;
        Linger = linger;
        if (otlp is { } e && _otlp is null)
        {
            _otlp = new OtlpMetrics(e.Endpoint, e.Interval);
            writer.Committed += _otlp.OnCommitted;
        }

        if (o.TryGetProperty("providers", out var p))
        {
            foreach (var error in providers.Apply(p, "initializationOptions"))
            {
                LogProviderRejected(logger, error);
            }
        }
    }

    /// <summary>The process-wide keys a socket client sent, which are not applied.</summary>
    public static List<string>? IgnoredForSocketClient(JsonElement? options)
    {
        if (options is not { ValueKind: JsonValueKind.Object } o)
        {
            return null;
        }

        var ignored = ProcessKeys.Where(k => o.TryGetProperty(k, out _)).ToList();
        return ignored.Count == 0 ? null : ignored;
    }

    public void Dispose() => _otlp?.Dispose();

    private static T Checked<T>(string key, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException ex)
        {
            throw new RpcException(ErrorCodes.InvalidParams, $"initializationOptions: {ex.Message}", new JsonObject { ["field"] = $"initializationOptions.{key}" });
        }
    }

    /// <summary><c>metrics.otlp: {endpoint, intervalSeconds?}</c> turns the OTLP export on (once per sidecar).</summary>
    private static (Uri, TimeSpan)? ParseOtlp(JsonElement metrics)
    {
        if (!metrics.TryGetProperty("otlp", out var otlp) || otlp.ValueKind is JsonValueKind.Null or JsonValueKind.False)
        {
            return null;
        }

        if (otlp.ValueKind != JsonValueKind.Object || !otlp.TryGetProperty("endpoint", out var ep) || ep.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(ep.GetString(), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException("'metrics.otlp' must be {\"endpoint\": \"http(s)://host:4318/\", \"intervalSeconds\"?: n}");
        }

        var interval = otlp.TryGetProperty("intervalSeconds", out var iv) && iv.ValueKind == JsonValueKind.Number ? iv.GetDouble() : 60;
        return (endpoint, TimeSpan.FromSeconds(Math.Clamp(interval, 0.1, 3600)));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "provider profile rejected: {Error}")]
    private static partial void LogProviderRejected(ILogger logger, string error);
}
