namespace AgentSidecar.Core;

/// <summary>Where the sidecar keeps its state, and its limits. Bound once at start.</summary>
public sealed record SidecarOptions
{
    /// <summary>Largest <c>worker/input</c> payload (1 MiB): more is a paste accident.</summary>
    public const int MaxInputBytes = 1 << 20;

    /// <summary>The database's file name in the data directory (its presence makes a directory ours).</summary>
    public const string DatabaseFileName = "sidecar.db";

    public required string DataDir { get; init; }

    public string DatabasePath => Path.Combine(DataDir, DatabaseFileName);

    /// <summary>How long a stopped worker gets after SIGHUP before SIGKILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long an agent gets to quit by its own quit command (suspend, shutdown) before SIGHUP.</summary>
    public TimeSpan QuitTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public int DefaultCols { get; init; } = 120;

    public int DefaultRows { get; init; } = 32;

    /// <summary>
    /// The data directory: <c>$AGENT_SIDECAR_DATA_DIR</c>, else <c>$XDG_DATA_HOME/agent-sidecar</c>,
    /// else <c>~/.local/share/agent-sidecar</c>.
    /// </summary>
    public static string DefaultDataDir(Func<string, string?> env)
    {
        if (env("AGENT_SIDECAR_DATA_DIR") is { Length: > 0 } d)
        {
            return Path.GetFullPath(d);
        }

        if (env("XDG_DATA_HOME") is { Length: > 0 } x)
        {
            return Path.Combine(x, "agent-sidecar");
        }

        var home = env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".local", "share", "agent-sidecar");
    }

    /// <summary>The config directory: <c>$XDG_CONFIG_HOME/agent-sidecar</c>, else <c>~/.config/agent-sidecar</c>.</summary>
    public static string DefaultConfigDir(Func<string, string?> env)
    {
        if (env("XDG_CONFIG_HOME") is { Length: > 0 } x)
        {
            return Path.Combine(x, "agent-sidecar");
        }

        var home = env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".config", "agent-sidecar");
    }

    /// <summary>Creates <paramref name="dir"/> (and parents) and makes it 0700.</summary>
    public static void EnsurePrivateDirectory(string dir)
    {
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
