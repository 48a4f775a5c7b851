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
    private readonly Task<SidecarStore> _storeOpening;
    private readonly Task _ready;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly MetricsOptions _metricsOptions;
    private readonly PosixSignalRegistration _fileSizeSignal;
    private Task _housekeeping = Task.CompletedTask;
    private UnixSocketListener? _listener;
    private JsonRpcConnection? _primary;
    private bool _sessionsStopped;
    private OtlpMetrics? _otlp;
    private SidecarStore? _store;
    private StoreWriter? _writer;
    private EventHub? _hub;
    private SessionManager? _sessions;
    private MetricsSync? _metrics;

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
        // A file-size limit (RLIMIT_FSIZE) must make a write fail with EFBIG, which the store
        // reports, not kill the sidecar with SIGXFSZ (found by the disk-full fault test). Set
        // before the store opens, which now happens in the background from here.
        _fileSizeSignal = PosixSignalRegistration.Create((PosixSignal)SigXfsz, context => context.Cancel = true);
        // Problem: opening SQLite (Microsoft.Data.Sqlite's first use, the migrations check) took
        // ~30 ms of the cold start while the process had the RPC layer still to start and
        // initialize to read and parse. Solution: it runs on a thread of its own from here, and
        // the store's users are built and the orphans recovered when it is done
        // (CompleteStartupAsync); initialize (and shutdown) wait for that, and every other request
        // needs initialize first. Own threads, not the thread pool: blocking work there would hold
        // back the RPC layer's continuations (the pool starts with one thread per core).
        var databasePath = Options.DatabasePath;
        _storeOpening = OnOwnThread(() => SidecarStore.Open(databasePath));
        _ = OnOwnThread(WarmUpFirstAnswer);
        // A loop, not LINQ over DictionaryEntry: that struct's generic instantiations are jitted at start.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment[(string)e.Key] = (string?)e.Value ?? string.Empty;
        }

        _environment = environment;
        Providers = new ProviderRegistry(name => environment.GetValueOrDefault(name));
        foreach (var error in Providers.LoadConfigDirectory(settings.ConfigDir))
        {
            LogProviderRejected(_logger, error);
        }

        Clients = new ClientConnections();
        loggerFactory.AddProvider(new ClientLogForwarder(Clients));
        _metricsOptions = LoadMetricsOptions(settings.ConfigDir);
        Cleanup = LoadCleanupOptions(settings.ConfigDir);
        Dispatcher = new RpcDispatcher(ProtocolJsonContext.Default.Options, ErrorMapper.Map)
            .AddTarget(new LifecycleHandlers(this))
            .AddTarget(new ProviderHandlers(this))
            .AddTarget(new SessionHandlers(this))
            .AddTarget(new WorkerHandlers(this))
            .AddTarget(new ChatHandlers(this))
            .AddTarget(new MetricsHandlers(this));
        SocketPath = settings.ListenPath ?? Path.Combine(Options.DataDir, "run", $"sidecar-{Environment.ProcessId}.sock");
        _ready = CompleteStartupAsync();
    }

    public SidecarOptions Options { get; }

    public RpcOptions RpcOptions { get; }

    // The store and its users exist once startup completed (see WhenReadyAsync): only initialize
    // and shutdown may run before, and they wait for it.
    public SidecarStore Store => _store ?? throw NotReady();

    public StoreWriter Writer => _writer ?? throw NotReady();

    public EventHub Hub => _hub ?? throw NotReady();

    public ProviderRegistry Providers { get; }

    public SessionManager Sessions => _sessions ?? throw NotReady();

    public ClientConnections Clients { get; }

    public MetricsSync Metrics => _metrics ?? throw NotReady();

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
        var first = await Task.WhenAny(primaryDone, _exitRequested.Task, stopped, _ready).ConfigureAwait(false);
        if (first == _ready)
        {
            // Throws what stopped the start (the database cannot be opened or migrated, the socket
            // cannot listen): the caller reports it.
            await _ready.ConfigureAwait(false);
            first = await Task.WhenAny(primaryDone, _exitRequested.Task, stopped).ConfigureAwait(false);
        }

        var code = first == _exitRequested.Task ? _exitRequested.Task.Result : 0;
        if (first == primaryDone && _primary?.CloseReason is not null)
        {
            code = 1; // framing lost: the client broke the protocol
        }

        return code;
    }

    /// <summary>
    /// Completes when the store is open, the sessions of dead sidecars are recovered and the socket
    /// listens; throws what stopped that. <c>initialize</c> waits for it, so no client ever sees an
    /// orphan as active.
    /// </summary>
    public Task WhenReadyAsync() => _ready;

    private async Task CompleteStartupAsync()
    {
        // The socket listens before initialize is answered (its result names the socket); socket
        // clients are served from then on, and their initialize waits for the rest like stdio's.
        var listening = OnOwnThread(() =>
        {
            _listener = new UnixSocketListener(SocketPath!, ServeSocketAsync);
            _listener.Start();
            LogListening(_logger, SocketPath!, Options.DataDir);
        });
        var store = await _storeOpening.ConfigureAwait(false);
        var writer = new StoreWriter(store, TimeProvider.System);
        writer.CommitFailed += ex => LogCommitFailed(_logger, ex);
        writer.CheckpointFailed += ex => LogCheckpointFailed(_logger, ex.Message);
        var hub = new EventHub(writer);
        var environment = _environment;
        var sessions = new SessionManager(Options, store, writer, hub, Providers, TimeProvider.System, _loggerFactory.CreateLogger<SessionManager>(), environment);
        var metrics = new MetricsSync(store, writer, TimeProvider.System, name => environment.GetValueOrDefault(name), _loggerFactory.CreateLogger<MetricsSync>())
        {
            Options = _metricsOptions,
        };
        sessions.MetricsTrigger = metrics.TriggerNow;
        sessions.SessionTransitioned += (previous, current) => Clients.Broadcast(
            Notifications.SessionTransitioned,
            new SessionTransitionedParams { Previous = WireMapper.ToWire(previous), Current = WireMapper.ToWire(current) },
            ProtocolJsonContext.Default.SessionTransitionedParams);
        sessions.SessionChanged += view => Clients.Broadcast(Notifications.SessionChanged, new SessionChangedParams { Session = WireMapper.ToWire(view) }, ProtocolJsonContext.Default.SessionChangedParams);
        sessions.OwnerSocket = SocketPath;
        (_store, _writer, _hub, _sessions, _metrics) = (store, writer, hub, sessions, metrics);

        // Sessions of sidecars that died (crash, SIGKILL): their leftover processes go, they become resumable.
        var recovered = await sessions.RecoverOrphansAsync().ConfigureAwait(false);
        if (recovered.Count > 0)
        {
            LogRecovered(_logger, recovered.Count);
        }

        metrics.Start();
        _housekeeping = Task.Run(() => HousekeepingAsync(_housekeepingStop.Token), CancellationToken.None);
        await listening.ConfigureAwait(false);
    }

    /// <summary>
    /// Problem: one-time work on the way to the first answer: the first log line's (see
    /// <see cref="StderrLogging.WarmUp"/>), and the first (de)serialisation of initialize's params
    /// and result, which builds their JSON metadata and jits its generic code (value-type
    /// properties: ~200 methods), 20–50 ms. Solution: done here on a thread of its own while the
    /// process starts the RPC layer and reads initialize; the answer finds it done (the metadata
    /// is cached, the code jitted).
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

    private static Task<T> OnOwnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static Task OnOwnThread(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static InvalidOperationException NotReady() => new("the sidecar's store is not open yet (wait for WhenReadyAsync)");

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
        if (!await IsReadyAsync().ConfigureAwait(false))
        {
            return; // the store never opened: there are no sessions to stop
        }

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
        var ready = await IsReadyAsync().ConfigureAwait(false);
        await _housekeepingStop.CancelAsync().ConfigureAwait(false);
        await _housekeeping.ConfigureAwait(false);
        _housekeepingStop.Dispose();
        _listener?.Dispose();
        await StopSessionsAsync().ConfigureAwait(false);
        if (_primary is not null)
        {
            await _primary.DisposeAsync().ConfigureAwait(false);
        }

        if (!ready)
        {
            _writer?.Dispose();
            _fileSizeSignal.Dispose();
            return;
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
        _fileSizeSignal.Dispose();
    }

    /// <summary>Waits for the startup to end; false if it failed (its error is reported by <see cref="RunAsync"/>).</summary>
    private async Task<bool> IsReadyAsync()
    {
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
