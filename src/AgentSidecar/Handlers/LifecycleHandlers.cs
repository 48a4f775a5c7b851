using AgentSidecar.Hosting;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;

namespace AgentSidecar.Handlers;

/// <summary><c>initialize</c> / <c>initialized</c> / <c>shutdown</c> / <c>exit</c>, as in LSP.</summary>
internal sealed class LifecycleHandlers(SidecarHost host)
{
    [JsonRpcMethod(Methods.Initialize, AllowBeforeInitialize = true)]
    public async Task<InitializeResult> InitializeAsync(InitializeParams p, RpcRequestContext ctx, CancellationToken ct)
    {
        if (ctx.Connection.State != ConnectionState.New)
        {
            throw new RpcException(ErrorCodes.InvalidRequest, "'initialize' was already sent on this connection");
        }

        // The store opens while the RPC layer starts (SidecarHost): the answer waits for it and for
        // the recovery of dead sidecars' sessions, so no client ever sees an orphan as active.
        await host.WhenReadyAsync().ConfigureAwait(false);
        host.ApplyInitializationOptions(p.InitializationOptions);
        var result = new InitializeResult
        {
            ServerInfo = new ServerInfo
            {
                Name = "agent-sidecar",
                Version = SidecarHost.Version,
                Socket = host.SocketPath,
                Pid = Environment.ProcessId,
                DataDir = host.Options.DataDir,
            },
            Capabilities = new ServerCapabilities
            {
                Methods = host.Dispatcher.Methods.Order(StringComparer.Ordinal).ToList(),
                MaxMessageBytes = host.RpcOptions.MaxMessageBytes,
                MaxInputBytes = Core.SidecarOptions.MaxInputBytes,
            },
            Providers = await ProviderHandlers.DescribeAsync(host, withVersions: false).ConfigureAwait(false),
        };
        ctx.Connection.MarkInitialized();
        return result;
    }

    [JsonRpcMethod(Methods.Initialized, AllowBeforeInitialize = true)]
    public Task InitializedAsync(EmptyParams p, CancellationToken ct) => Task.CompletedTask;

    [JsonRpcMethod(Methods.Shutdown, AllowBeforeInitialize = true)]
    public async Task ShutdownAsync(EmptyParams p, RpcRequestContext ctx, CancellationToken ct)
    {
        if (ctx.Connection.State == ConnectionState.New)
        {
            throw new RpcException(ErrorCodes.ServerNotInitialized, "'shutdown' before 'initialize'");
        }

        ctx.Connection.MarkShutdownRequested();
        if (host.IsPrimary(ctx.Connection))
        {
            // The editor is going away: stop (suspend) this sidecar's sessions now, so 'exit' is quick.
            await host.StopSessionsAsync().ConfigureAwait(false);
        }
    }

    [JsonRpcMethod(Methods.Exit, AllowBeforeInitialize = true)]
    public Task ExitAsync(EmptyParams p, RpcRequestContext ctx, CancellationToken ct)
    {
        host.RequestExit(ctx.Connection, ctx.Connection.State == ConnectionState.ShutdownRequested ? 0 : 1);
        return Task.CompletedTask;
    }
}
