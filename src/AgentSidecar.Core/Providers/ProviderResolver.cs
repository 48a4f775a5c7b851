namespace AgentSidecar.Core.Providers;

/// <summary>A provider ready to start: its profile, its command as configured (expanded) and the executable found for it.</summary>
internal sealed record ResolvedProvider(ProviderProfile Profile, string Command, string Executable);

/// <summary>The one place that turns a provider id into something a session can start, with the errors a user can act on.</summary>
internal static class ProviderResolver
{
    /// <summary>The usable profile of <paramref name="providerId"/>, or 1005 saying why not.</summary>
    public static ProviderProfile Profile(ProviderRegistry providers, string providerId, string? sessionId = null)
    {
        var entry = providers.FindEntry(providerId) ?? throw new SidecarException(
            SidecarError.ProviderUnavailable,
            sessionId is null
                ? $"unknown provider '{providerId}'; known: {string.Join(", ", providers.All.Select(p => p.Id))}"
                : $"provider '{providerId}' of session {sessionId} is not configured any more");
        return entry.Profile
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{providerId}' is unusable: {entry.Error}");
    }

    /// <summary>The profile and the executable its command names, or 1005 saying what is missing.</summary>
    public static ResolvedProvider Resolve(ProviderRegistry providers, string providerId, string? sessionId = null)
    {
        var profile = Profile(providers, providerId, sessionId);
        var command = providers.Expand(profile.Command);
        var executable = providers.Resolve(command)
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{profile.Id}' is not available: command '{command}' was not found in PATH", new Dictionary<string, object?> { ["command"] = command });
        return new ResolvedProvider(profile, command, executable);
    }
}
