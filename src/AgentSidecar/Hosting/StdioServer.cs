using AgentSidecar.Rpc;
using Microsoft.Extensions.Hosting;

namespace AgentSidecar.Hosting;

/// <summary>
/// The primary client on stdin/stdout (the editor that started this sidecar): its <c>exit</c> ends
/// the sidecar; the end of its input ends it too unless live sessions make it linger
/// (<see cref="Lingering"/>). With <c>--no-stdio</c> the sidecar serves the socket until
/// SIGTERM. A start that fails (the database cannot be opened, the socket cannot listen) ends the
/// sidecar with exit code 2 and says why.
/// </summary>
internal sealed class StdioServer(HostSettings settings, RpcServer server, SidecarStartup startup, SidecarExit exit, IHostApplicationLifetime lifetime) : BackgroundService
{
    /// <summary>The name of the stdio connection.</summary>
    public const string ConnectionName = "stdio";

    private JsonRpcConnection? _primary;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stopped = Task.Delay(Timeout.Infinite, stoppingToken);
        var served = stopped;
        if (settings.Stdio)
        {
            // Stdout carries the protocol only: anything else that writes to Console goes to stderr.
            var stdout = Console.OpenStandardOutput();
            Console.SetOut(Console.Error);
            _primary = server.Connect(Console.OpenStandardInput(), stdout, ConnectionName, primary: true);
            served = _primary.RunAsync();
        }

        var first = await Task.WhenAny(served, stopped, startup.Ready).ConfigureAwait(false);
        if (first == startup.Ready)
        {
            if (!await startup.IsReadyAsync().ConfigureAwait(false))
            {
                exit.StartFailed(startup.Ready.Exception?.InnerException ?? startup.Ready.Exception!);
                lifetime.StopApplication();
                return;
            }

            first = await Task.WhenAny(served, stopped).ConfigureAwait(false);
        }

        if (first != served)
        {
            lifetime.StopApplication(); // SIGTERM, or --no-stdio's end
        }
        else if (_primary is { CloseReason: not null })
        {
            exit.Set(1); // framing lost: the client broke the protocol
            lifetime.StopApplication();
        }

        // Else the editor left (its stdin ended): Lingering decides whether the sidecar outlives it.
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_primary is not null)
        {
            await _primary.DisposeAsync().ConfigureAwait(false);
        }
    }
}
