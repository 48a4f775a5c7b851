namespace AgentSidecar.Core;

/// <summary>What went wrong, in domain terms; the host maps each kind to a protocol error code.</summary>
public enum SidecarError
{
    SessionNotFound,
    WorkerNotFound,
    SessionBusy,
    InvalidState,
    ProviderUnavailable,
    InvalidWorkspace,
    PayloadTooLarge,
    InvalidArgument,
    ApprovalNotFound,
    LimitReached,
}

/// <summary>The one exception type the core throws for errors a client caused or can act on.</summary>
public sealed class SidecarException(SidecarError error, string message, IReadOnlyDictionary<string, object?>? data = null) : Exception(message)
{
    public SidecarError Error { get; } = error;

    public IReadOnlyDictionary<string, object?>? Details { get; } = data;
}
