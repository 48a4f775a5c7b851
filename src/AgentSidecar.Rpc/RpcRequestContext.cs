namespace AgentSidecar.Rpc;

/// <summary>What a handler may know about the request it serves: the connection it came from.</summary>
public sealed class RpcRequestContext(JsonRpcConnection connection, string method)
{
    private List<Action>? _afterResponse;

    public JsonRpcConnection Connection { get; } = connection;

    public string Method { get; } = method;

    /// <summary>Runs <paramref name="action"/> once the response is queued (e.g. start streaming after an attach result).</summary>
    public void OnResponseSent(Action action) => (_afterResponse ??= []).Add(action);

    internal void ResponseSent()
    {
        if (_afterResponse is { } actions)
        {
            foreach (var a in actions)
            {
                a();
            }
        }
    }
}
