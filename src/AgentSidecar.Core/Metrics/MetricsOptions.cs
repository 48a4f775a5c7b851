using System.Text.Json;

namespace AgentSidecar.Core.Metrics;

/// <summary><c>metrics</c> in config.json or initializationOptions.</summary>
public sealed record MetricsOptions
{
    public const double DefaultIntervalSeconds = 120;

    /// <summary>Where batches are POSTed; null: records stay local.</summary>
    public Uri? Endpoint { get; init; }

    public double IntervalSeconds { get; init; } = DefaultIntervalSeconds;

    /// <summary>Extra headers: a literal value, or <c>{"env": "VAR"}</c> to take it from the environment (never logged).</summary>
    public IReadOnlyDictionary<string, HeaderValue> Headers { get; init; } = new Dictionary<string, HeaderValue>();

    public int BatchSize { get; init; } = 100;

    public double TimeoutSeconds { get; init; } = 10;

    /// <summary>First retry delay after a failure; doubles up to <see cref="MaxBackoffSeconds"/>, with jitter.</summary>
    public double BackoffSeconds { get; init; } = 1;

    public double MaxBackoffSeconds { get; init; } = 300;

    public sealed record HeaderValue(string? Value, string? Env);

    /// <summary>Reads <c>{endpoint, intervalSeconds, headers, batchSize, timeoutSeconds, backoffSeconds}</c>; errors name the field.</summary>
    public static MetricsOptions Parse(JsonElement e, MetricsOptions? baseOptions = null)
    {
        var o = baseOptions ?? new MetricsOptions();
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("'metrics' must be an object");
        }

        if (e.TryGetProperty("endpoint", out var ep))
        {
            if (ep.ValueKind == JsonValueKind.Null)
            {
                o = o with { Endpoint = null };
            }
            else if (ep.ValueKind != JsonValueKind.String || !Uri.TryCreate(ep.GetString(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException("'metrics.endpoint' must be an absolute http(s) URL");
            }
            else
            {
                o = o with { Endpoint = uri };
            }
        }

        o = o with
        {
            IntervalSeconds = ConfigValues.Number(e, "metrics", "intervalSeconds", o.IntervalSeconds, 0.05, 86400),
            BatchSize = (int)ConfigValues.Number(e, "metrics", "batchSize", o.BatchSize, 1, 10000),
            TimeoutSeconds = ConfigValues.Number(e, "metrics", "timeoutSeconds", o.TimeoutSeconds, 0.1, 600),
            BackoffSeconds = ConfigValues.Number(e, "metrics", "backoffSeconds", o.BackoffSeconds, 0.01, 3600),
            MaxBackoffSeconds = ConfigValues.Number(e, "metrics", "maxBackoffSeconds", o.MaxBackoffSeconds, 0.01, 86400),
        };
        if (e.TryGetProperty("headers", out var headers))
        {
            if (headers.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException("'metrics.headers' must be an object");
            }

            var map = new Dictionary<string, HeaderValue>(StringComparer.OrdinalIgnoreCase);
            foreach (var h in headers.EnumerateObject())
            {
                map[h.Name] = h.Value.ValueKind switch
                {
                    JsonValueKind.String => new HeaderValue(h.Value.GetString(), null),
                    JsonValueKind.Object when h.Value.TryGetProperty("env", out var env) && env.ValueKind == JsonValueKind.String => new HeaderValue(null, env.GetString()),
                    _ => throw new ArgumentException($"'metrics.headers.{h.Name}' must be a string or {{\"env\": \"VAR\"}}"),
                };
            }

            o = o with { Headers = map };
        }

        return o;
    }
}
