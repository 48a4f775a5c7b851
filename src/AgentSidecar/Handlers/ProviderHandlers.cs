using AgentSidecar.Hosting;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;

namespace AgentSidecar.Handlers;

internal sealed class ProviderHandlers(SidecarHost host)
{
    [JsonRpcMethod(Methods.ProviderList)]
    public Task<ProviderListResult> ListAsync(EmptyParams p, CancellationToken ct) =>
        Task.FromResult(new ProviderListResult { Providers = Describe(host) });

    internal static List<ProviderInfo> Describe(SidecarHost host) =>
        host.Providers.All.Select(profile =>
        {
            var command = host.Providers.Expand(profile.Command);
            var resolved = host.Providers.Resolve(command);
            return new ProviderInfo
            {
                Id = profile.Id,
                DisplayName = profile.DisplayName,
                Command = command,
                ResolvedPath = resolved,
                Available = resolved is not null,
                Reason = resolved is null ? $"command '{command}' was not found in PATH" : null,
                Features = profile.Features,
            };
        }).ToList();
}
