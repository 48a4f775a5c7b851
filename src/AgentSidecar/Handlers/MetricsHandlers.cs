using AgentSidecar.Core.Metrics;
using AgentSidecar.Protocol;
using StreamJsonRpc;

namespace AgentSidecar.Handlers;

internal sealed class MetricsHandlers(MetricsSync metrics)
{
    [JsonRpcMethod(Methods.MetricsStatus)]
    public Task<MetricsStatusResult> StatusAsync(EmptyParams p, CancellationToken ct)
    {
        var s = metrics.Status();
        return Task.FromResult(new MetricsStatusResult
        {
            Pending = s.Pending,
            Sent = s.Sent,
            Failed = s.Failing,
            LastSyncAt = s.LastSyncAt is { } at ? WireMapper.Ts(at.ToUnixTimeMilliseconds()) : null,
            LastError = s.LastError,
            Endpoint = s.Endpoint,
        });
    }

    [JsonRpcMethod(Methods.MetricsFlush)]
    public async Task<MetricsFlushResult> FlushAsync(EmptyParams p, CancellationToken ct)
    {
        var (sent, pending) = await metrics.FlushAsync(ct).ConfigureAwait(false);
        return new MetricsFlushResult { Sent = sent, Pending = pending };
    }
}
