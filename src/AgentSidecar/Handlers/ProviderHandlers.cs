using AgentSidecar.Core.Providers;
using AgentSidecar.Protocol;
using StreamJsonRpc;

namespace AgentSidecar.Handlers;

internal sealed class ProviderHandlers(ProviderRegistry providers)
{
    [JsonRpcMethod(Methods.ProviderList)]
    public async Task<ProviderListResult> ListAsync(EmptyParams p, CancellationToken ct) =>
        new() { Providers = await DescribeAsync(providers, withVersions: true).ConfigureAwait(false) };

    /// <summary>Every provider, whether its command is found, its version (when asked), or why it is unusable.</summary>
    internal static async Task<List<ProviderInfo>> DescribeAsync(ProviderRegistry registry, bool withVersions)
    {
        var tasks = registry.Entries.Select(async entry =>
        {
            if (entry.Profile is not { } profile)
            {
                return new ProviderInfo { Id = entry.Id, DisplayName = entry.Id, Command = string.Empty, Available = false, Reason = entry.Error };
            }

            var command = registry.Expand(profile.Command);
            var resolved = registry.Resolve(command);
            return new ProviderInfo
            {
                Id = profile.Id,
                DisplayName = profile.DisplayName ?? profile.Id,
                Command = command,
                ResolvedPath = resolved,
                Available = resolved is not null,
                Version = withVersions && resolved is not null ? await registry.VersionAsync(profile, resolved).ConfigureAwait(false) : null,
                Reason = resolved is null ? $"command '{command}' was not found in PATH" : null,
                Features = profile.Features,
                Models = profile.Models,
            };
        });
        return [.. await Task.WhenAll(tasks).ConfigureAwait(false)];
    }
}
