namespace AgentSidecar.Rpc;

/// <summary>Marks a handler method: <c>Task&lt;TResult&gt; M(TParams p, [RpcRequestContext ctx,] CancellationToken ct)</c>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class JsonRpcMethodAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    /// <summary>Whether the method may be called before <c>initialize</c> (only lifecycle methods).</summary>
    public bool AllowBeforeInitialize { get; init; }
}
