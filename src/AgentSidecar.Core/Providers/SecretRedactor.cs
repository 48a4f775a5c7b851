namespace AgentSidecar.Core.Providers;

/// <summary>
/// Keeps the values of a profile's <see cref="ProviderProfile.SecretEnv"/> variables out of what the
/// sidecar records and sends: a worker's command and arguments (a profile may pass
/// <c>--token=${API_TOKEN}</c>) are stored and shown with each secret value replaced by
/// <see cref="Mask"/>; the process itself gets the real ones.
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

    public static string Redact(string text, IReadOnlyList<string> secrets)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return text;
    }
}
