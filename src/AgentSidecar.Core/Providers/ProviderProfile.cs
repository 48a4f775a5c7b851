namespace AgentSidecar.Core.Providers;

/// <summary>
/// A provider is data: what to run and how to talk to it. The built-ins and user profiles are the
/// same type (see docs/providers.md).
/// </summary>
public sealed record ProviderProfile
{
    public required string Id { get; init; }

    public required string DisplayName { get; init; }

    /// <summary>The program; <c>$SHELL</c>-style variables are expanded from the environment.</summary>
    public required string Command { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>How a model is passed, e.g. <c>["--model", "{model}"]</c>; empty: models are not supported.</summary>
    public IReadOnlyList<string> ModelArgs { get; init; } = [];

    public IReadOnlyList<string> Features { get; init; } = [];
}

/// <summary>The providers this sidecar knows, by id.</summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, ProviderProfile> _profiles = new(StringComparer.Ordinal);
    private readonly Func<string, string?> _env;

    public ProviderRegistry(Func<string, string?> env)
    {
        _env = env;
        Add(new ProviderProfile
        {
            Id = "shell",
            DisplayName = "Shell",
            Command = "${SHELL:-/bin/bash}",
            Features = ["terminal"],
        });
    }

    public IEnumerable<ProviderProfile> All => _profiles.Values.OrderBy(p => p.Id, StringComparer.Ordinal);

    public void Add(ProviderProfile profile) => _profiles[profile.Id] = profile;

    public ProviderProfile? Find(string id) => _profiles.GetValueOrDefault(id);

    /// <summary>Expands <c>${VAR}</c> and <c>${VAR:-default}</c> in a command or argument.</summary>
    public string Expand(string value)
    {
        var start = value.IndexOf("${", StringComparison.Ordinal);
        while (start >= 0)
        {
            var end = value.IndexOf('}', start);
            if (end < 0)
            {
                break;
            }

            var expr = value[(start + 2)..end];
            var sep = expr.IndexOf(":-", StringComparison.Ordinal);
            var name = sep >= 0 ? expr[..sep] : expr;
            var fallback = sep >= 0 ? expr[(sep + 2)..] : string.Empty;
            var replacement = _env(name) is { Length: > 0 } v ? v : fallback;
            value = string.Concat(value.AsSpan(0, start), replacement, value.AsSpan(end + 1));
            start = value.IndexOf("${", start + replacement.Length, StringComparison.Ordinal);
        }

        return value;
    }

    /// <summary>The absolute path of <paramref name="command"/> (searched in PATH), or null.</summary>
    public string? Resolve(string command)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        }

        foreach (var dir in (_env("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
