using System.Text.Json.Nodes;

namespace AgentSidecar.Protocol;

/// <summary>
/// The one exception type that becomes a JSON-RPC error response. Handlers throw it (or a domain
/// exception the host maps to it); the dispatcher turns it into <c>{code, message, data}</c>.
/// Stack traces never go on the wire.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(int code, string message, JsonObject? data = null)
        : base(message)
    {
        Code = code;
        ErrorData = data;
    }

    public int Code { get; }

    public JsonObject? ErrorData { get; }

    /// <summary>-32602 with <c>data.field</c> naming the offending field.</summary>
    public static RpcException InvalidParams(string field, string message) =>
        new(ErrorCodes.InvalidParams, message, new JsonObject { ["field"] = field });
}
