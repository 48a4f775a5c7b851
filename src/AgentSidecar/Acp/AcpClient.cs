using AgentSidecar.Protocol;
using AgentSidecar.Cli;

namespace AgentSidecar.Acp;

/// <summary>What the ACP agent asks of its client: the seam between the sessions and the transport.</summary>
internal interface IAcpClient
{
    /// <summary>A <c>session/update</c> notification.</summary>
    Task UpdateAsync(string sessionId, SessionUpdate update);

    /// <summary>A <c>session/request_permission</c> request.</summary>
    Task<RequestPermissionResponse> RequestPermissionAsync(RequestPermissionRequest request, CancellationToken cancellationToken);
}

/// <summary>Protocol v1 requests the ACP agent makes that the CLI does not (the same pairing as <see cref="CliProtocol"/>).</summary>
internal static class AcpProtocolV1
{
    public static readonly RequestType<SessionIdParams, SessionClearResult> SessionClear = new(Methods.SessionClear, ProtocolJsonContext.Default.SessionIdParams, ProtocolJsonContext.Default.SessionClearResult);
}
