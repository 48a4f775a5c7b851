using System.Text.Json.Nodes;
using AgentSidecar.Core;
using AgentSidecar.Protocol;

namespace AgentSidecar.Handlers;

/// <summary>Domain errors → protocol error codes, in one place.</summary>
internal static class ErrorMapper
{
    public static RpcException? Map(Exception ex) => ex switch
    {
        SidecarException s => new RpcException(Code(s), s.Message, ToJson(s.Error == SidecarError.InvalidArgument && s.Details is null
            ? new Dictionary<string, object?> { ["field"] = "params" }
            : s.Details)),
        ObjectDisposedException => new RpcException(ErrorCodes.InvalidState, "the sidecar is shutting down"),
        _ => null,
    };

    private static int Code(SidecarException s) => s.Error switch
    {
        SidecarError.SessionNotFound => ErrorCodes.SessionNotFound,
        SidecarError.WorkerNotFound => ErrorCodes.WorkerNotFound,
        SidecarError.ApprovalNotFound => ErrorCodes.WorkerNotFound,
        SidecarError.SessionBusy => ErrorCodes.SessionBusy,
        SidecarError.InvalidState => ErrorCodes.InvalidState,
        SidecarError.ProviderUnavailable => ErrorCodes.ProviderUnavailable,
        SidecarError.InvalidWorkspace => ErrorCodes.InvalidWorkspace,
        SidecarError.PayloadTooLarge => ErrorCodes.PayloadTooLarge,
        SidecarError.LimitReached => ErrorCodes.LimitReached,
        SidecarError.InvalidArgument => ErrorCodes.InvalidParams,
        _ => ErrorCodes.InternalError,
    };

    private static JsonObject? ToJson(IReadOnlyDictionary<string, object?>? data)
    {
        if (data is null)
        {
            return null;
        }

        var obj = new JsonObject();
        foreach (var (k, v) in data)
        {
            obj[k] = v switch
            {
                null => null,
                string s => JsonValue.Create(s),
                int i => JsonValue.Create(i),
                long l => JsonValue.Create(l),
                bool b => JsonValue.Create(b),
                IReadOnlyDictionary<string, object?> d => ToJson(d),
                IEnumerable<string> list => new JsonArray(list.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()),
                _ => JsonValue.Create(v.ToString()),
            };
        }

        return obj;
    }
}
