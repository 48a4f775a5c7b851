using AgentSidecar.Rpc;

namespace AgentSidecar.Hosting;

/// <summary>What the command line decided.</summary>
internal sealed record HostSettings
{
    public required string DataDir { get; init; }

    public string? ListenPath { get; init; }

    public bool Stdio { get; init; } = true;

    public long MaxMessageBytes { get; init; } = RpcOptions.DefaultMaxMessageBytes;

    public TimeSpan? StallTimeout { get; init; }

    /// <summary>config.json and providers.json live here (<c>$XDG_CONFIG_HOME/agent-sidecar</c>, else <c>~/.config/agent-sidecar</c>).</summary>
    public required string ConfigDir { get; init; }

    /// <summary>The socket for more clients: <c>--listen</c>, else <c>&lt;data-dir&gt;/run/sidecar-&lt;pid&gt;.sock</c>.</summary>
    public string SocketPath => ListenPath ?? Path.Combine(DataDir, "run", $"sidecar-{Environment.ProcessId}.sock");
}
