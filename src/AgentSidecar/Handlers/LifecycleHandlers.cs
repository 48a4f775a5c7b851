using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Hosting;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;
using AgentSidecar.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StreamJsonRpc;

namespace AgentSidecar.Handlers;

/// <summary><c>initialize</c> / <c>initialized</c> / <c>shutdown</c> / <c>exit</c>, as in LSP.</summary>
internal sealed class LifecycleHandlers(
    JsonRpcConnection connection,
    RpcServer server,
    SidecarStartup startup,
    ProcessSettings settings,
    ProviderRegistry providers,
    ClientConnections clients,
    HostSettings host,
    SidecarExit exit,
    IHostApplicationLifetime lifetime,
    IServiceProvider services)
{
    // The Core services (MetricsSync, StoreWriter, SessionManager) exist only once the store is
    // open, after this object is made for the connection: initialize asks for them after Ready.

    [JsonRpcMethod(Methods.Initialize)]
    public async Task<InitializeResult> InitializeAsync(InitializeParams p, CancellationToken ct)
    {
        if (connection.State != ConnectionState.New)
        {
            throw new RpcException(ErrorCodes.InvalidRequest, "'initialize' was already sent on this connection");
        }

        // The store opens while the RPC layer starts (SidecarStartup): the answer waits for it and
        // for the recovery of dead sidecars' sessions, so no client ever sees an orphan as active.
        await startup.Ready.ConfigureAwait(false);
        List<string>? ignored = null;
        if (server.IsPrimary(connection))
        {
            settings.ApplyPrimary(p.InitializationOptions, services.GetRequiredService<MetricsSync>(), services.GetRequiredService<StoreWriter>(), services.GetRequiredService<Core.Sessions.SessionManager>());
        }
        else
        {
            ignored = ProcessSettings.IgnoredForSocketClient(p.InitializationOptions);
            if (p.InitializationOptions is { ValueKind: System.Text.Json.JsonValueKind.Object } o && o.TryGetProperty("defaultProvider", out var dp)
                && dp.ValueKind == System.Text.Json.JsonValueKind.String && clients.Get(connection) is { } client)
            {
                client.DefaultProvider = dp.GetString();
            }
        }

        server.AddHandlers(connection);
        var result = new InitializeResult
        {
            ServerInfo = new ServerInfo
            {
                Name = "agent-sidecar",
                Version = SidecarVersion.Value,
                Socket = host.SocketPath,
                Pid = Environment.ProcessId,
                DataDir = host.DataDir,
            },
            Capabilities = new ServerCapabilities
            {
                Methods = connection.Methods.Names.Order(StringComparer.Ordinal).ToList(),
                MaxMessageBytes = connection.Options.MaxMessageBytes,
                MaxInputBytes = Core.SidecarOptions.MaxInputBytes,
            },
            Providers = await ProviderHandlers.DescribeAsync(providers, withVersions: false).ConfigureAwait(false),
            IgnoredOptions = ignored,
        };
        connection.MarkInitialized();
        return result;
    }

    /// <summary>
    /// A sidecar started over stdio hands its editor to this one (<see cref="StdioHandOver"/>):
    /// the connection becomes the primary client if this sidecar was started by an editor and has
    /// none now (the editor that left and came back), else an ordinary client.
    /// </summary>
    [JsonRpcMethod(Methods.HandOver)]
    public Task<HandOverResult> HandOverAsync(HandOverParams p, CancellationToken ct)
    {
        if (connection.State != ConnectionState.New)
        {
            throw new RpcException(ErrorCodes.InvalidRequest, "'$/handOver' comes before 'initialize'");
        }

        if (!string.Equals(p.Version, SidecarVersion.Build, StringComparison.Ordinal))
        {
            throw new RpcException(ErrorCodes.InvalidState, $"this sidecar is build {SidecarVersion.Build} and the one handing over is {p.Version}: a sidecar only takes clients of its own build");
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw new RpcException(ErrorCodes.InvalidState, "this sidecar is stopping");
        }

        var primary = host.Stdio && server.TryAdoptPrimary(connection);
        return Task.FromResult(new HandOverResult { Pid = Environment.ProcessId, Version = SidecarVersion.Build, Primary = primary });
    }

    [JsonRpcMethod(Methods.Initialized)]
    public Task InitializedAsync(EmptyParams p, CancellationToken ct) => Task.CompletedTask;

    [JsonRpcMethod(Methods.Shutdown)]
    public async Task ShutdownAsync(EmptyParams p, CancellationToken ct)
    {
        if (connection.State == ConnectionState.New)
        {
            throw new RpcException(ErrorCodes.ServerNotInitialized, "'shutdown' before 'initialize'");
        }

        connection.MarkShutdownRequested();
        if (server.IsPrimary(connection))
        {
            // The editor is going away: stop (suspend) this sidecar's sessions now, so 'exit' is quick.
            await startup.StopSessionsAsync().ConfigureAwait(false);
        }
    }

    [JsonRpcMethod(Methods.Exit)]
    public Task ExitAsync(EmptyParams p, CancellationToken ct)
    {
        var code = connection.State == ConnectionState.ShutdownRequested ? 0 : 1;
        if (server.IsPrimary(connection))
        {
            exit.Request(code);
        }
        else
        {
            _ = connection.CloseAsync();
        }

        return Task.CompletedTask;
    }
}
