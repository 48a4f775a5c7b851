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
