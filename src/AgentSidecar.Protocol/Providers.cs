namespace AgentSidecar.Protocol;

public sealed record ProviderInfo
{
    public required string Id { get; init; }

    public required string DisplayName { get; init; }

    public bool Available { get; init; }

    public required string Command { get; init; }

    /// <summary>The resolved executable path, when found.</summary>
    public string? ResolvedPath { get; init; }

    public string? Version { get; init; }

    /// <summary>Why the provider is unavailable (command not found, bad profile).</summary>
    public string? Reason { get; init; }

    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>Models to offer (the profile's <c>models</c>); the agent takes others too.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];
}

public sealed record ProviderListResult
{
    public required IReadOnlyList<ProviderInfo> Providers { get; init; }
}
