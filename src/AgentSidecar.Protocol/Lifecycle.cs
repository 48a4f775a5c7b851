using System.Text.Json;

namespace AgentSidecar.Protocol;

public sealed record ClientInfo
{
    public string? Name { get; init; }

    public string? Version { get; init; }
}

public sealed record InitializeParams
{
    public long? ProcessId { get; init; }

    public ClientInfo? ClientInfo { get; init; }

    public JsonElement? WorkspaceFolders { get; init; }

    public JsonElement? InitializationOptions { get; init; }
}

public sealed record ServerInfo
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>The unix socket on which this sidecar serves more clients.</summary>
    public string? Socket { get; init; }

    public int Pid { get; init; }

    public string? DataDir { get; init; }
}

public sealed record ServerCapabilities
{
    public IReadOnlyList<string> Methods { get; init; } = [];

    public IReadOnlyList<string> Channels { get; init; } = ["pty", "chat", "system", "metrics"];

    public long MaxMessageBytes { get; init; }

    public int MaxInputBytes { get; init; }
}

public sealed record InitializeResult
{
    public string ProtocolVersion { get; init; } = "1";

    public required ServerInfo ServerInfo { get; init; }

    public required ServerCapabilities Capabilities { get; init; }

    public IReadOnlyList<ProviderInfo> Providers { get; init; } = [];

    /// <summary>
    /// The <c>initializationOptions</c> keys this client sent that were not applied: only the
    /// primary client (stdio) sets process-wide settings (<c>providers</c>, <c>metrics</c>,
    /// <c>cleanup</c>). Absent when none.
    /// </summary>
    public IReadOnlyList<string>? IgnoredOptions { get; init; }
}

/// <summary>
/// <c>$/handOver</c>: sent first, before <c>initialize</c>, by a sidecar started over stdio that
/// found this one already running the sessions of its workspace; from then on it relays its
/// editor's bytes unchanged (docs/protocol.md, "Sessions outlive the editor").
/// </summary>
public sealed record HandOverParams
{
    /// <summary>The relaying process.</summary>
    public int Pid { get; init; }

    /// <summary>Its version: a sidecar of another version is not handed a client (1004).</summary>
    public required string Version { get; init; }

    /// <summary>The folder it was started in (the editor's workspace).</summary>
    public string? Workspace { get; init; }
}

public sealed record HandOverResult
{
    public int Pid { get; init; }

    public required string Version { get; init; }

    /// <summary>True when this connection became the primary client (its settings apply, its leaving starts the linger).</summary>
    public bool Primary { get; init; }
}

public sealed record CancelParams
{
    public JsonElement Id { get; init; }
}

public sealed record LogMessageParams
{
    /// <summary>1 error, 2 warning, 3 info, 4 log (as in LSP).</summary>
    public int Type { get; init; }

    public required string Message { get; init; }
}

public sealed record EmptyParams;

public sealed record EmptyResult
{
    public static readonly EmptyResult Instance = new();
}
