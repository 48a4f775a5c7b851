using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using AgentSidecar.Core;
using AgentSidecar.Core.Events;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Handlers;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;
using AgentSidecar.Store;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>What the command line decided.</summary>
internal sealed record HostSettings
{
    public required string DataDir { get; init; }

    public string? ListenPath { get; init; }

    public bool Stdio { get; init; } = true;

    public long MaxMessageBytes { get; init; } = RpcOptions.DefaultMaxMessageBytes;

    public TimeSpan? StallTimeout { get; init; }

    /// <summary>config.json and providers.json live here (<c>$XDG_CONFIG_HOME/agent-sidecar</c>, else <c>~/.config/agent-sidecar</c>).</summary>
    public required string ConfigDir { get; init; }
}

/// <summary>
/// The composition root and process lifetime: builds the parts, serves stdio (the primary client,
/// whose end ends the sidecar) and the unix socket, and shuts down so that no child survives.
/// </summary>
internal sealed partial class SidecarHost : IAsyncDisposable
{
    public static readonly string Version =
        typeof(SidecarHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>How long shutdown waits for a last metrics flush.</summary>
    private static readonly TimeSpan ShutdownFlushTimeout = TimeSpan.FromSeconds(3);

    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<int> _exitRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _stopGate = new(1, 1);
    private readonly CancellationTokenSource _housekeepingStop = new();
    private Task _housekeeping = Task.CompletedTask;
    private UnixSocketListener? _listener;
    private JsonRpcConnection? _primary;
    private bool _sessionsStopped;
    private OtlpMetrics? _otlp;

    private SidecarHost(HostSettings settings, ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("agent-sidecar");
        Options = new SidecarOptions { DataDir = settings.DataDir };
        RpcOptions = new RpcOptions
        {
            MaxMessageBytes = settings.MaxMessageBytes,
            StallTimeout = settings.StallTimeout ?? new RpcOptions().StallTimeout,
        };
        SidecarOptions.EnsurePrivateDirectory(Options.DataDir);
        Store = SidecarStore.Open(Options.DatabasePath);
        Writer = new StoreWriter(Store, TimeProvider.System);
        Writer.CommitFailed += ex => LogCommitFailed(_logger, ex);
        Writer.CheckpointFailed += ex => LogCheckpointFailed(_logger, ex.Message);
        Hub = new EventHub(Writer);
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? string.Empty, StringComparer.Ordinal);
        Providers = new ProviderRegistry(name => environment.GetValueOrDefault(name));
        foreach (var error in Providers.LoadConfigDirectory(settings.ConfigDir))
        {
            LogProviderRejected(_logger, error);
        }

        Sessions = new SessionManager(Options, Store, Writer, Hub, Providers, TimeProvider.System, loggerFactory.CreateLogger<SessionManager>(), environment);
        Clients = new ClientConnections();
        loggerFactory.AddProvider(new ClientLogForwarder(Clients));
        Metrics = new MetricsSync(Store, Writer, TimeProvider.System, name => environment.GetValueOrDefault(name), loggerFactory.CreateLogger<MetricsSync>());
        Metrics.Options = LoadMetricsOptions(settings.ConfigDir);
        Cleanup = LoadCleanupOptions(settings.ConfigDir);
        Sessions.MetricsTrigger = Metrics.TriggerNow;
        Sessions.SessionTransitioned += (previous, current) => Clients.Broadcast(
            Notifications.SessionTransitioned,
            new SessionTransitionedParams { Previous = WireMapper.ToWire(previous), Current = WireMapper.ToWire(current) },
            ProtocolJsonContext.Default.SessionTransitionedParams);
        Sessions.SessionChanged += view => Clients.Broadcast(Notifications.SessionChanged, new SessionChangedParams { Session = WireMapper.ToWire(view) }, ProtocolJsonContext.Default.SessionChangedParams);
        Dispatcher = new RpcDispatcher(ProtocolJsonContext.Default.Options, ErrorMapper.Map)
            .AddTarget(new LifecycleHandlers(this))
            .AddTarget(new ProviderHandlers(this))
            .AddTarget(new SessionHandlers(this))
            .AddTarget(new WorkerHandlers(this))
            .AddTarget(new ChatHandlers(this))
            .AddTarget(new MetricsHandlers(this));
        SocketPath = settings.ListenPath ?? Path.Combine(Options.DataDir, "run", $"sidecar-{Environment.ProcessId}.sock");
    }

    public SidecarOptions Options { get; }

    public RpcOptions RpcOptions { get; }

    public SidecarStore Store { get; }

    public StoreWriter Writer { get; }

    public EventHub Hub { get; }

    public ProviderRegistry Providers { get; }

    public SessionManager Sessions { get; }

    public ClientConnections Clients { get; }

    public MetricsSync Metrics { get; }

    public RpcDispatcher Dispatcher { get; }

    public OrderedScheduler Scheduler { get; } = new();

    public string? SocketPath { get; private set; }

    public string DefaultProvider { get; private set; } = "shell";

    /// <summary>The background cleanup's settings and <c>session/cleanup</c>'s defaults.</summary>
    public CleanupOptions Cleanup { get; private set; } = new();

    public static SidecarHost Create(HostSettings settings, ILoggerFactory loggerFactory) => new(settings, loggerFactory);

    /// <summary>Serves until the primary client (stdio) ends or sends <c>exit</c>, or <paramref name="stop"/> fires; returns the exit code.</summary>
    public async Task<int> RunAsync(HostSettings settings, CancellationToken stop)
    {
        // A file-size limit (RLIMIT_FSIZE) must make a write fail with EFBIG, which the store
        // reports, not kill the sidecar with SIGXFSZ (found by the disk-full fault test).
        using var fileSizeSignal = PosixSignalRegistration.Create((PosixSignal)SigXfsz, context => context.Cancel = true);
        // Sessions of sidecars that died (crash, SIGKILL): their leftover processes go, they become resumable.
        var recovered = await Sessions.RecoverOrphansAsync().ConfigureAwait(false);
        if (recovered.Count > 0)
        {
            LogRecovered(_logger, recovered.Count);
        }

        Metrics.Start();
        _housekeeping = Task.Run(() => HousekeepingAsync(_housekeepingStop.Token), CancellationToken.None);
        _listener = new UnixSocketListener(SocketPath!, ServeSocketAsync);
        _listener.Start();
        Sessions.OwnerSocket = SocketPath;
        LogListening(_logger, SocketPath!, Options.DataDir);

        Task primaryDone;
        if (settings.Stdio)
        {
            // Stdout carries the protocol only: anything else that writes to Console goes to stderr.
            var stdout = Console.OpenStandardOutput();
            Console.SetOut(Console.Error);
            _primary = NewConnection(Console.OpenStandardInput(), stdout, "stdio");
            primaryDone = _primary.RunAsync();
        }
        else
        {
            primaryDone = Task.Delay(Timeout.Infinite, stop);
        }

        var stopped = Task.Delay(Timeout.Infinite, stop);
        var first = await Task.WhenAny(primaryDone, _exitRequested.Task, stopped).ConfigureAwait(false);
        var code = first == _exitRequested.Task ? _exitRequested.Task.Result : 0;
        if (first == primaryDone && _primary?.CloseReason is not null)
        {
            code = 1; // framing lost: the client broke the protocol
        }

        return code;
    }

    public bool IsPrimary(JsonRpcConnection connection) => ReferenceEquals(connection, _primary);

    public void RequestExit(JsonRpcConnection connection, int code)
    {
        if (IsPrimary(connection))
        {
            _exitRequested.TrySetResult(code);
        }
        else
        {
            _ = connection.CloseAsync();
        }
    }

    /// <summary>Suspends every live session (stopping its processes); safe to call twice.</summary>
    public async Task StopSessionsAsync()
    {
        await _stopGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_sessionsStopped)
            {
                _sessionsStopped = true;
                await Sessions.StopAllAsync("suspended", "shutdown").ConfigureAwait(false);
            }
        }
        finally
        {
            _stopGate.Release();
        }
    }

    /// <summary>Applies <c>initializationOptions</c> (which win over config.json); problems are logged and shown by provider/list.</summary>
    public void ApplyInitializationOptions(JsonElement? options)
    {
        if (options is not { ValueKind: JsonValueKind.Object } o)
        {
            return;
        }

        if (o.TryGetProperty("defaultProvider", out var dp) && dp.ValueKind == JsonValueKind.String)
        {
            DefaultProvider = dp.GetString()!;
        }

        if (o.TryGetProperty("metrics", out var metrics))
        {
            try
            {
                Metrics.Options = MetricsOptions.Parse(metrics, Metrics.Options);
                ConfigureOtlp(metrics);
            }
            catch (ArgumentException ex)
            {
                throw new RpcException(ErrorCodes.InvalidParams, $"initializationOptions: {ex.Message}", new System.Text.Json.Nodes.JsonObject { ["field"] = "initializationOptions.metrics" });
            }
        }

        if (o.TryGetProperty("cleanup", out var cleanup))
        {
            try
            {
                Cleanup = CleanupOptions.Parse(cleanup, Cleanup);
            }
            catch (ArgumentException ex)
            {
                throw new RpcException(ErrorCodes.InvalidParams, $"initializationOptions: {ex.Message}", new System.Text.Json.Nodes.JsonObject { ["field"] = "initializationOptions.cleanup" });
            }
        }

        if (o.TryGetProperty("providers", out var providers))
        {
            foreach (var error in Providers.Apply(providers, "initializationOptions"))
            {
                LogProviderRejected(_logger, error);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _housekeepingStop.CancelAsync().ConfigureAwait(false);
        await _housekeeping.ConfigureAwait(false);
        _housekeepingStop.Dispose();
        _listener?.Dispose();
        await StopSessionsAsync().ConfigureAwait(false);
        if (_primary is not null)
        {
            await _primary.DisposeAsync().ConfigureAwait(false);
        }

        await Sessions.DisposeAsync().ConfigureAwait(false);

        // The ENDs of the sessions just stopped go out now if the endpoint answers quickly; else they wait for the next start.
        try
        {
            using var cts = new CancellationTokenSource(ShutdownFlushTimeout);
            await Metrics.FlushAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await Metrics.DisposeAsync().ConfigureAwait(false);
        _otlp?.Dispose();
        Writer.Dispose();
    }

    /// <summary><c>metrics.otlp: {endpoint, intervalSeconds?}</c> turns the OTLP export on (once per sidecar).</summary>
    private void ConfigureOtlp(JsonElement metrics)
    {
        if (_otlp is not null || !metrics.TryGetProperty("otlp", out var otlp) || otlp.ValueKind == JsonValueKind.Null || (otlp.ValueKind == JsonValueKind.False))
        {
            return;
        }

        if (otlp.ValueKind != JsonValueKind.Object || !otlp.TryGetProperty("endpoint", out var ep) || ep.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(ep.GetString(), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException("'metrics.otlp' must be {\"endpoint\": \"http(s)://host:4318/\", \"intervalSeconds\"?: n}");
        }

        var interval = otlp.TryGetProperty("intervalSeconds", out var iv) && iv.ValueKind == JsonValueKind.Number ? iv.GetDouble() : 60;
        _otlp = new OtlpMetrics(endpoint, TimeSpan.FromSeconds(Math.Clamp(interval, 0.1, 3600)));
        Writer.Committed += _otlp.OnCommitted;
    }

    /// <summary>
    /// Every <c>cleanup.intervalSeconds</c>: recovers sessions of sidecars that died meanwhile, suspends
    /// idle sessions and purges old ended ones. A failure is logged and the next round goes on.
    /// </summary>
    private async Task HousekeepingAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var interval = Cleanup.IntervalSeconds;
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(interval > 0 ? interval : 60), stop).ConfigureAwait(false);
                if (Cleanup.IntervalSeconds <= 0 || _sessionsStopped)
                {
                    continue;
                }

                await Sessions.RecoverOrphansAsync().ConfigureAwait(false);
                var result = await Sessions.CleanupAsync(TimeSpan.FromSeconds(Cleanup.IdleSeconds), TimeSpan.FromDays(Cleanup.PurgeOlderThanDays)).ConfigureAwait(false);
                if (result.Ended.Count + result.Purged.Count > 0)
                {
                    LogCleanup(_logger, result.Ended.Count, result.Purged.Count);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                LogHousekeepingFailed(_logger, ex);
            }
        }
    }

    private CleanupOptions LoadCleanupOptions(string configDir)
    {
        var path = Path.Combine(configDir, "config.json");
        if (!File.Exists(path))
        {
            return new CleanupOptions();
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return doc.RootElement.TryGetProperty("cleanup", out var c) ? CleanupOptions.Parse(c) : new CleanupOptions();
        }
        catch (Exception ex) when (ex is JsonException or IOException or ArgumentException)
        {
            LogProviderRejected(_logger, $"{path}: cleanup: {ex.Message}");
            return new CleanupOptions();
        }
    }

    private MetricsOptions LoadMetricsOptions(string configDir)
    {
        var path = Path.Combine(configDir, "config.json");
        if (!File.Exists(path))
        {
            return new MetricsOptions();
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return doc.RootElement.TryGetProperty("metrics", out var m) ? MetricsOptions.Parse(m) : new MetricsOptions();
        }
        catch (Exception ex) when (ex is JsonException or IOException or ArgumentException)
        {
            LogProviderRejected(_logger, $"{path}: metrics: {ex.Message}");
            return new MetricsOptions();
        }
    }

    private JsonRpcConnection NewConnection(Stream input, Stream output, string name)
    {
        var connection = new JsonRpcConnection(input, output, Dispatcher, Scheduler, RpcOptions, _loggerFactory.CreateLogger("rpc"), name);
        Clients.Add(connection);
        connection.Closed.Register(() => Clients.Remove(connection));
        return connection;
    }

    private async Task ServeSocketAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var connection = NewConnection(stream, stream, $"socket#{socket.Handle}");
        await using (connection.ConfigureAwait(false))
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
    }

    /// <summary>SIGXFSZ on Linux (x86-64 and arm64).</summary>
    private const int SigXfsz = 25;

    [LoggerMessage(Level = LogLevel.Information, Message = "serving more clients on {Socket} (data in {DataDir})")]
    private static partial void LogListening(ILogger logger, string socket, string dataDir);

    [LoggerMessage(Level = LogLevel.Warning, Message = "recovered {Count} session(s) whose sidecar had died: they are suspended and can be resumed")]
    private static partial void LogRecovered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "cleanup: {Suspended} idle session(s) suspended, {Purged} old session(s) purged")]
    private static partial void LogCleanup(ILogger logger, int suspended, int purged);

    [LoggerMessage(Level = LogLevel.Error, Message = "housekeeping (orphans, cleanup) failed; it runs again at the next interval")]
    private static partial void LogHousekeepingFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "provider profile rejected: {Error}")]
    private static partial void LogProviderRejected(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "committing to the event log failed; the batch was not written")]
    private static partial void LogCommitFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "checkpointing the event log failed ({Reason}); it stays in the write-ahead log and is retried")]
    private static partial void LogCheckpointFailed(ILogger logger, string reason);
}
