namespace AgentSidecar.Core.Providers;

/// <summary>How provider patterns (regexes from profiles) are run.</summary>
internal static class ProviderPatterns
{
    /// <summary>The most a match of a profile's pattern may take before it counts as no match.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);
}
