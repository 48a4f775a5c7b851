using System.Collections.Concurrent;
using System.Text.Json;
using StreamJsonRpc;

namespace AgentSidecar.Acp;

/// <summary>
/// ACP's request cancellation, <c>$/cancel_request {requestId}</c>, in StreamJsonRpc's shape (its
/// own strategy speaks LSP's <c>$/cancelRequest {id}</c>, which ACP clients do not know). Outbound:
/// a permission request that became moot (answered in the agent's terminal or another editor) is
/// withdrawn, so the client can close its question. Inbound: the handler's token is cancelled
/// (<c>session/new</c> stops waiting for the agent; a prompt cancels its turn like <c>session/cancel</c>).
/// </summary>
internal sealed class AcpCancellation(TextWriter log) : ICancellationStrategy
{
    public const string Method = "$/cancel_request";

    private readonly ConcurrentDictionary<RequestId, CancellationTokenSource> _inbound = new();
    private JsonRpc? _rpc;

    /// <summary>Installs itself on <paramref name="rpc"/> (before it starts listening).</summary>
    public void Attach(JsonRpc rpc)
    {
        _rpc = rpc;
        rpc.CancellationStrategy = this;
        rpc.AddLocalRpcMethod(Method, new Action<JsonElement>(CancelInbound));
    }

    public void IncomingRequestStarted(RequestId requestId, CancellationTokenSource cancellationTokenSource) => _inbound[requestId] = cancellationTokenSource;

    public void IncomingRequestEnded(RequestId requestId) => _inbound.TryRemove(requestId, out _);

    public void CancelOutboundRequest(RequestId requestId)
    {
        if (_rpc is { IsDisposed: false } rpc)
        {
            object id = requestId.String is { } s ? s : requestId.Number ?? 0L;
            _ = rpc.NotifyWithParameterObjectAsync(Method, new Dictionary<string, object?> { ["requestId"] = id }).ContinueWith(
                t => log.WriteLine($"agent-sidecar acp: could not withdraw request {requestId}: {t.Exception?.GetBaseException().Message}"),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }
    }

    public void OutboundRequestEnded(RequestId requestId)
    {
    }

    /// <summary>
    /// The notification's <c>requestId</c> (a number or a string). The parameter's name is the
    /// property's: StreamJsonRpc binds named params by name.
    /// </summary>
    private void CancelInbound(JsonElement requestId)
    {
        RequestId? key = requestId.ValueKind switch
        {
            JsonValueKind.Number when requestId.TryGetInt64(out var n) => new RequestId(n),
            JsonValueKind.String => new RequestId(requestId.GetString()),
            _ => null,
        };
        if (key is { } id && _inbound.TryRemove(id, out var cts))
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The request ended meanwhile.
            }
        }
    }
}
