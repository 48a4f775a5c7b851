namespace AgentSidecar.Protocol;

/// <summary>JSON-RPC's own error codes and the protocol's application codes (docs/protocol.md).</summary>
public static class ErrorCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;
    public const int ServerNotInitialized = -32002;
    public const int RequestCancelled = -32800;

    public const int SessionNotFound = 1001;
    public const int WorkerNotFound = 1002;
    public const int SessionBusy = 1003;
    public const int InvalidState = 1004;
    public const int ProviderUnavailable = 1005;
    public const int InvalidWorkspace = 1006;
    public const int PayloadTooLarge = 1007;
    public const int LimitReached = 1008;
}
