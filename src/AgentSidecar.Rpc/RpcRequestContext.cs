using StreamJsonRpc;

namespace AgentSidecar.Rpc;

/// <summary>The request a handler is serving, and what should happen once its response is out.</summary>
public sealed class RpcRequestContext
{
    private static readonly AsyncLocal<RpcRequestContext?> s_current = new();
    private readonly Lock _lock = new();
    private List<Action>? _afterResponse;

    internal RpcRequestContext(JsonRpcConnection connection, RequestId id, string method)
    {
        Connection = connection;
        Id = id;
        Method = method;
    }

    /// <summary>The request being served on this flow, if any.</summary>
    public static RpcRequestContext? Current => s_current.Value;

    internal static RpcRequestContext? CurrentScope
    {
        set => s_current.Value = value;
    }

    public JsonRpcConnection Connection { get; }

    public string Method { get; }

    internal RequestId Id { get; }

    /// <summary>Runs <paramref name="action"/> once the response is sent (e.g. start streaming after an attach result).</summary>
    public void OnResponseSent(Action action)
    {
        lock (_lock)
        {
            (_afterResponse ??= []).Add(action);
        }
    }

    internal void ResponseSent()
    {
        List<Action>? actions;
        lock (_lock)
        {
            (actions, _afterResponse) = (_afterResponse, null);
        }

        foreach (var a in actions ?? [])
        {
            a();
        }
    }
}
