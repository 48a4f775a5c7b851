using System.Diagnostics.Metrics;
using System.Text.Json;
using AgentSidecar.Store;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace AgentSidecar.Hosting;

/// <summary>
/// Optional OTLP export (off by default): counters and histograms for sessions, turns, tokens and
/// turn duration, fed from the committed <c>metrics/*</c> events, exported by the OpenTelemetry SDK.
/// Config: <c>metrics.otlp = {endpoint, intervalSeconds?}</c> (OTLP over HTTP/protobuf).
/// </summary>
internal sealed class OtlpMetrics : IDisposable
{
    public const string MeterName = "agent_sidecar";

    private readonly Meter _meter = new(MeterName, SidecarVersion.Value);
    private readonly MeterProvider _provider;
    private readonly Counter<long> _sessionsStarted;
    private readonly Counter<long> _sessionsEnded;
    private readonly Counter<long> _turns;
    private readonly Counter<long> _inputTokens;
    private readonly Counter<long> _outputTokens;
    private readonly Histogram<double> _turnDuration;

    public OtlpMetrics(Uri endpoint, TimeSpan interval)
    {
        _sessionsStarted = _meter.CreateCounter<long>("agent_sidecar.sessions.started", description: "tracking sessions started");
        _sessionsEnded = _meter.CreateCounter<long>("agent_sidecar.sessions.ended", description: "tracking sessions ended, by reason");
        _turns = _meter.CreateCounter<long>("agent_sidecar.turns", description: "chat turns");
        _inputTokens = _meter.CreateCounter<long>("agent_sidecar.tokens.input", unit: "{token}");
        _outputTokens = _meter.CreateCounter<long>("agent_sidecar.tokens.output", unit: "{token}");
        _turnDuration = _meter.CreateHistogram<double>("agent_sidecar.turn.duration", unit: "ms");
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(endpoint, "v1/metrics");
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)interval.TotalMilliseconds;
            })
            .Build();
    }

    /// <summary>Counts the committed metrics events (called on the writer thread: cheap).</summary>
    public void OnCommitted(IReadOnlyList<StoredEvent> events)
    {
        foreach (var e in events)
        {
            if (e.Channel != "metrics")
            {
                continue;
            }

            using var doc = JsonDocument.Parse(e.Data);
            var r = doc.RootElement;
            var provider = new KeyValuePair<string, object?>("provider", r.GetProperty("provider").GetString());
            switch (e.Type)
            {
                case "start":
                    _sessionsStarted.Add(1, provider);
                    break;
                case "end":
                    _sessionsEnded.Add(1, provider, new KeyValuePair<string, object?>("reason", r.TryGetProperty("reason", out var reason) ? reason.GetString() : null));
                    break;
                case "usage" when r.TryGetProperty("usage", out var u):
                    _turns.Add(u.GetProperty("turns").GetInt64(), provider);
                    _inputTokens.Add(u.GetProperty("inputTokens").GetInt64(), provider);
                    _outputTokens.Add(u.GetProperty("outputTokens").GetInt64(), provider);
                    _turnDuration.Record(u.GetProperty("activeMs").GetInt64(), provider);
                    break;
            }
        }
    }

    public void Dispose()
    {
        _provider.ForceFlush(2000);
        _provider.Dispose();
        _meter.Dispose();
    }
}
