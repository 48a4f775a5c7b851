using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// More clients on the unix socket (the CLI, a second editor). It listens before <c>initialize</c>
/// is answered (the result names the socket); its clients' initialize waits for the start like
/// stdio's.
/// </summary>
internal sealed partial class SocketServer(HostSettings settings, RpcServer server, ILogger<SocketServer> logger) : IHostedService, IDisposable
{
    private UnixSocketListener? _listener;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the socket listens; throws what stopped it.</summary>
    public Task Listening => _listening.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // On a thread of its own: binding and the stale-socket probe are blocking calls, and the
        // process has initialize to read meanwhile.
        _ = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    _listener = new UnixSocketListener(settings.SocketPath, ServeAsync);
                    _listener.Start();
                    LogListening(logger, settings.SocketPath, settings.DataDir);
                    _listening.TrySetResult();
                }
                catch (Exception ex)
                {
                    _listening.TrySetException(ex);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _listener?.Dispose();

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var connection = server.Connect(stream, stream, $"socket#{socket.Handle}", primary: false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "serving more clients on {Socket} (data in {DataDir})")]
    private static partial void LogListening(ILogger logger, string socket, string dataDir);
}
