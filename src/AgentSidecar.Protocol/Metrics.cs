namespace AgentSidecar.Protocol;

public sealed record SessionClearResult
{
    public required Session Previous { get; init; }

    public required Session Current { get; init; }
}

public sealed record MetricsStatusResult
{
    public long Pending { get; init; }

    public long Sent { get; init; }

    /// <summary>Unsent records whose last attempt failed.</summary>
    public long Failed { get; init; }

    public string? LastSyncAt { get; init; }

    public string? LastError { get; init; }

    public string? Endpoint { get; init; }
}

public sealed record MetricsFlushResult
{
    public int Sent { get; init; }

    public long Pending { get; init; }
}
