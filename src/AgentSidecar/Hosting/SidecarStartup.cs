using System.Text.Json;
using AgentSidecar.Core;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Handlers;
using AgentSidecar.Protocol;
using AgentSidecar.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// The sidecar's start and stop around its Core services. Start: the store opens on a thread of its
/// own while the RPC layer starts and reads <c>initialize</c> (opening SQLite and checking the
/// migrations took ~30 ms of the cold start); then the sessions of dead sidecars are recovered and
/// metrics sync starts. <see cref="Ready"/> completes when that is done and the socket listens:
/// <c>initialize</c> waits for it, so no client ever sees an orphan as active, and every other
/// request needs initialize first. Stop: every live session is suspended, then the sessions'
/// ENDs get one last chance to reach the metrics endpoint.
/// </summary>
internal sealed partial class SidecarStartup(IServiceProvider services, HostSettings settings, StoreOpening store, SocketServer socket, ILogger<SidecarStartup> logger) : IHostedService, IDisposable
{
    /// <summary>How long stopping waits for a last metrics flush.</summary>
    private static readonly TimeSpan ShutdownFlushTimeout = TimeSpan.FromSeconds(3);

    private readonly SemaphoreSlim _stopGate = new(1, 1);
    private Task? _ready;
    private bool _sessionsStopped;

    /// <summary>Completes when the store is open, orphans are recovered and the socket listens; throws what stopped that.</summary>
    public Task Ready => _ready ?? throw new InvalidOperationException("the sidecar has not started");

    /// <summary>True once stopping began: background work does not start new rounds.</summary>
    public bool SessionsStopped => _sessionsStopped;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = OnOwnThread(WarmUpFirstAnswer);
        // Not inline: the store is usually open by now, so CompleteAsync would run the recovery of
        // dead sidecars' sessions (SQLite, ~14 ms) on the host's start thread, before the stdio
        // connection is even made; on a thread of its own it overlaps with that instead (cold start
        // -2 to -3 ms alone, alternated start by start; docs/benchmarks.md).
        _ready = OnOwnThread(() => CompleteAsync(store.Task)).Unwrap();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!await IsReadyAsync().ConfigureAwait(false))
        {
            return; // the store never opened: there are no sessions to stop
        }

        await StopSessionsAsync().ConfigureAwait(false);

        // The ENDs of the sessions just stopped go out now if the endpoint answers quickly; else they wait for the next start.
        try
        {
            using var cts = new CancellationTokenSource(ShutdownFlushTimeout);
            await services.GetRequiredService<MetricsSync>().FlushAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

    }

    public void Dispose() => _stopGate.Dispose();

    /// <summary>Suspends every live session (stopping its processes); safe to call twice.</summary>
    public async Task StopSessionsAsync()
    {
        if (!await IsReadyAsync().ConfigureAwait(false))
        {
            return;
        }

        await _stopGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_sessionsStopped)
            {
                _sessionsStopped = true;
                await services.GetRequiredService<SessionManager>().StopAllAsync("suspended", "shutdown").ConfigureAwait(false);
            }
        }
        finally
        {
            _stopGate.Release();
        }
    }

    /// <summary>Waits for the start to end; false if it failed (the stdio server reports why).</summary>
    public async Task<bool> IsReadyAsync()
    {
        if (_ready is null)
        {
            return false;
        }

        try
        {
            await _ready.ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false;
        }
    }

    private async Task CompleteAsync(Task<SidecarStore> opening)
    {
        await opening.ConfigureAwait(false);
        var writer = services.GetRequiredService<StoreWriter>();
        writer.CommitFailed += ex => LogCommitFailed(logger, ex);
        writer.CheckpointFailed += ex => LogCheckpointFailed(logger, ex.Message);
        var sessions = services.GetRequiredService<SessionManager>();
        var metrics = services.GetRequiredService<MetricsSync>();
        var clients = services.GetRequiredService<ClientConnections>();
        sessions.MetricsTrigger = metrics.TriggerNow;
        sessions.SessionTransitioned += (previous, current) => clients.Broadcast(
            Notifications.SessionTransitioned,
            new SessionTransitionedParams { Previous = WireMapper.ToWire(previous), Current = WireMapper.ToWire(current) });
        sessions.SessionChanged += view => clients.Broadcast(Notifications.SessionChanged, new SessionChangedParams { Session = WireMapper.ToWire(view) });
        sessions.OwnerSocket = settings.SocketPath;
        sessions.Limits = services.GetRequiredService<SidecarConfig>().Limits;

        // Sessions of sidecars that died (crash, SIGKILL): their leftover processes go, they become resumable.
        var recovered = await sessions.RecoverOrphansAsync().ConfigureAwait(false);
        if (recovered.Count > 0)
        {
            LogRecovered(logger, recovered.Count);
        }

        metrics.Start();
        await socket.Listening.ConfigureAwait(false);
    }

    /// <summary>
    /// Problem: one-time work on the way to the first answer: the first log line's (see
    /// <see cref="StderrLogging.WarmUp"/>), and the first (de)serialisation of initialize's params
    /// and result, which builds their JSON metadata and jits its generic code (value-type
    /// properties: ~200 methods), 20–50 ms. Solution: done here on a thread of its own while the
    /// process starts the RPC layer and reads initialize; the answer finds it done.
    /// </summary>
    private static void WarmUpFirstAnswer()
    {
        StderrLogging.WarmUp();
        var options = ProtocolJsonContext.Default.Options;
        _ = JsonSerializer.Deserialize("""{"processId":1,"clientInfo":{"name":"warm-up"},"workspaceFolders":[],"initializationOptions":{}}"""u8, options.GetTypeInfo(typeof(InitializeParams)));
        using var writer = new Utf8JsonWriter(Stream.Null);
        JsonSerializer.Serialize(
            writer,
            new InitializeResult
            {
                ServerInfo = new ServerInfo { Name = "warm-up", Version = "0", Pid = 1 },
                Capabilities = new ServerCapabilities { MaxMessageBytes = 1 },
                Providers = [new ProviderInfo { Id = "warm-up", DisplayName = "warm-up", Command = "warm-up", Available = true }],
            },
            options.GetTypeInfo(typeof(InitializeResult)));
    }

    // Own threads, not the thread pool: blocking work there would hold back the RPC layer's
    // continuations (the pool starts with one thread per core).
    private static Task OnOwnThread(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static Task<Task> OnOwnThread(Func<Task> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [LoggerMessage(Level = LogLevel.Warning, Message = "recovered {Count} session(s) whose sidecar had died: they are suspended and can be resumed")]
    private static partial void LogRecovered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "committing to the event log failed; the batch was not written")]
    private static partial void LogCommitFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "checkpointing the event log failed ({Reason}); it stays in the write-ahead log and is retried")]
    private static partial void LogCheckpointFailed(ILogger logger, string reason);
}
