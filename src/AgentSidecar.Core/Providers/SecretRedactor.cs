namespace AgentSidecar.Core.Providers;

/// <summary>
/// Keeps the values of a profile's <see cref="ProviderProfile.SecretEnv"/> variables out of what
/// other local users and the sidecar's records can see: never on an agent's command line (a profile
/// that would put one there is refused), and masked as <see cref="Mask"/> wherever one would still
/// show in a worker's recorded command (a user's own worker command).
/// </summary>
public static class SecretRedactor
{
    public const string Mask = "***";

    /// <summary>Shorter values are not treated as secrets: masking "1" or "ab" everywhere would garble everything.</summary>
    public const int MinSecretLength = 4;

    /// <summary>The values, in <paramref name="environment"/>, of the variables <paramref name="profile"/> marks secret.</summary>
    public static List<string> Values(ProviderProfile? profile, IReadOnlyDictionary<string, string> environment) =>
        profile is null
            ? []
            : profile.SecretEnv.Select(name => environment.GetValueOrDefault(name))
                .OfType<string>()
                .Where(v => v.Length >= MinSecretLength)
                .Distinct(StringComparer.Ordinal)
                .OrderByDescending(v => v.Length) // a secret containing another is masked whole
                .ToList();

    /// <summary>
    /// Why the profile's command line would carry a secret, naming the field; null when it does not.
    /// A command line is readable by every local user (<c>ps</c>, /proc/PID/cmdline), so a
    /// <c>secretEnv</c> variable may reach the agent only through its environment.
    /// </summary>
    public static string? CommandLineError(ProviderProfile p)
    {
        if (p.SecretEnv.Count == 0)
        {
            return null;
        }

        var fields = new List<(string Field, string Value)> { ("command", p.Command) };
        foreach (var (name, list) in new[] { ("args", p.Args), ("modelArgs", p.ModelArgs), ("resumeArgs", p.ResumeArgs), ("versionArgs", p.VersionArgs) })
        {
            fields.AddRange(list.Select((v, i) => ($"{name}[{i}]", v)));
        }

        foreach (var (field, value) in fields)
        {
            if (p.SecretEnv.FirstOrDefault(name => value.Contains("${" + name + "}", StringComparison.Ordinal) || value.Contains("${" + name + ":-", StringComparison.Ordinal)) is { } secret)
            {
                return $"field '{field}' puts the secret variable {secret} on the agent's command line, where every local user can read it (ps); the agent gets it from its environment instead";
            }
        }

        return null;
    }

    /// <summary>The secret whose value is on this command line (reached through another variable), if any; only its position is told.</summary>
    public static int? IndexOnCommandLine(string command, IReadOnlyList<string> args, IReadOnlyList<string> secrets)
    {
        for (var i = -1; i < args.Count; i++)
        {
            var value = i < 0 ? command : args[i];
            if (secrets.Any(s => value.Contains(s, StringComparison.Ordinal)))
            {
                return i;
            }
        }

        return null;
    }

    public static string Redact(string text, IReadOnlyList<string> secrets)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return text;
    }
}
