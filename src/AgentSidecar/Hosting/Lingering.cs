using AgentSidecar.Core;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Rpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// What happens when the editor goes away without asking the sidecar to stop (its stdin ends: a
/// window reload, an extension update, a closed window). With live sessions and a grace period
/// (<c>lingerSeconds</c>, default 600), the sidecar outlives its editor: agents, shells and a
/// running turn go on, its socket stays open, and a sidecar started over stdio for the same
/// workspace hands its editor over to this one (<see cref="StdioHandOver"/>). The sidecar ends
/// when the grace period has passed with no client connected (its sessions are then suspended as
/// before), or at once when nothing is live and no client is connected. A <c>shutdown</c> from the
/// primary is still a deliberate stop; <c>lingerSeconds: 0</c> keeps the old behaviour (the end
/// of stdin stops the sidecar).
/// </summary>
internal sealed partial class Lingering(
    RpcServer server,
    ClientConnections clients,
    ProcessSettings settings,
    SidecarStartup startup,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<Lingering> logger) : IHostedService
{
    /// <summary>How often a lingering sidecar looks at its clients and sessions.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>1 while a linger loop runs (the sidecar without a primary client after its editor left).</summary>
    private int _lingering;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        server.PrimaryLeft += OnPrimaryLeft;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        server.PrimaryLeft -= OnPrimaryLeft;
        return Task.CompletedTask;
    }

    private void OnPrimaryLeft(JsonRpcConnection primary)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return; // it asked for the stop (shutdown + exit)
        }

        var grace = settings.Linger;
        // A stdio client that broke the framing stops the sidecar with exit code 1: StdioServer
        // does that. A handed-over editor whose socket broke (its relay killed) has just left.
        if (primary.CloseReason is not null && primary.Name == StdioServer.ConnectionName)
        {
            return;
        }

        if (grace <= TimeSpan.Zero || !startup.Ready.IsCompletedSuccessfully || LiveSessions() == 0)
        {
            // Lingering off, or nothing to keep alive.
            lifetime.StopApplication();
            return;
        }

        if (Interlocked.Exchange(ref _lingering, 1) == 0)
        {
            LogLingering(logger, LiveSessions(), grace.TotalSeconds);
            BackgroundWork.Run(logger, "lingering", () => LingerAsync(grace));
        }
    }

    private async Task LingerAsync(TimeSpan grace)
    {
        var stopping = lifetime.ApplicationStopping;
        var lastClient = time.GetUtcNow();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (server.HasPrimary)
                {
                    // An editor came back: its leaving decides again. Unless it already left and
                    // its OnPrimaryLeft saw this loop still running: then this loop goes on.
                    Volatile.Write(ref _lingering, 0);
                    if (server.HasPrimary || Interlocked.Exchange(ref _lingering, 1) == 1)
                    {
                        LogTakenOver(logger);
                        return;
                    }
                }

                var now = time.GetUtcNow();
                if (clients.Connected > 0)
                {
                    lastClient = now;
                }
                else if (LiveSessions() == 0)
                {
                    LogNothingLive(logger);
                    lifetime.StopApplication();
                    return;
                }
                else if (now - lastClient >= grace)
                {
                    LogGraceOver(logger, grace.TotalSeconds, LiveSessions());
                    lifetime.StopApplication();
                    return;
                }

                await Task.Delay(Tick, time, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private int LiveSessions() => services.GetRequiredService<SessionManager>().LiveCount;

    [LoggerMessage(Level = LogLevel.Information, Message = "the editor left; {Count} live session(s) go on: this sidecar lingers, and ends after {Seconds} s with no client")]
    private static partial void LogLingering(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "an editor took over: no longer lingering")]
    private static partial void LogTakenOver(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "nothing live and no client: stopping")]
    private static partial void LogNothingLive(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "no client for {Seconds} s: suspending {Count} live session(s) and stopping")]
    private static partial void LogGraceOver(ILogger logger, double seconds, int count);
}
