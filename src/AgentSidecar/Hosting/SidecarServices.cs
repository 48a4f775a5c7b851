using AgentSidecar.Core;
using AgentSidecar.Core.Events;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;
using AgentSidecar.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// The composition root: the Generic Host with the sidecar's parts. Settings are read once (the
/// command line, config.json, the environment); the Core services are singletons made when first
/// asked for, which is after the store opened (<see cref="SidecarStartup"/>); handlers are made per
/// connection (<see cref="RpcServer"/>). Hosted services, started in this order and stopped in the
/// reverse: the start and stop of the Core (store, recovery, metrics sync; suspending sessions),
/// housekeeping, the socket, and the primary client on stdio.
/// </summary>
internal static class SidecarServices
{
    public static IHost Build(HostSettings settings, LogLevel logLevel)
    {
        // The store opens on a thread of its own while the host is built and initialize is read.
        var storeOpening = new StoreOpening(settings.DataDir);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "agent-sidecar" });
        var clients = new ClientConnections();
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Logging.AddProvider(StderrLogging.CreateProvider(logLevel));
        builder.Logging.AddProvider(new ClientLogForwarder(clients));
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(clients);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new SidecarOptions { DataDir = settings.DataDir });
        services.AddSingleton(new RpcOptions
        {
            MaxMessageBytes = settings.MaxMessageBytes,
            StallTimeout = settings.StallTimeout ?? new RpcOptions().StallTimeout,
        });
        services.AddSingleton<IReadOnlyDictionary<string, string>>(ProcessEnvironment());
        services.AddSingleton(sp => SidecarConfig.Load(settings.ConfigDir, sp.GetRequiredService<ILoggerFactory>().CreateLogger("config")));
        services.AddSingleton(sp => LoadProviders(settings.ConfigDir, sp.GetRequiredService<IReadOnlyDictionary<string, string>>(), sp.GetRequiredService<ILogger<ProviderRegistry>>()));
        services.AddSingleton<ProcessSettings>();
        services.AddSingleton<SidecarExit>();

        // Protocol v1.
        services.AddSingleton(new MethodTable(ProtocolJsonContext.Default.Options, RpcServer.HandlerTypes));
        services.AddSingleton<OrderedScheduler>();
        services.AddSingleton<RpcServer>();

        // The Core, made once the store is open.
        services.AddSingleton(storeOpening);
        services.AddSingleton(sp => sp.GetRequiredService<StoreOpening>().Store);
        services.AddSingleton(sp => new StoreWriter(sp.GetRequiredService<SidecarStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new EventHub(sp.GetRequiredService<StoreWriter>()));
        services.AddSingleton(sp => new SessionManager(
            sp.GetRequiredService<SidecarOptions>(),
            sp.GetRequiredService<SidecarStore>(),
            sp.GetRequiredService<StoreWriter>(),
            sp.GetRequiredService<EventHub>(),
            sp.GetRequiredService<ProviderRegistry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SessionManager>>(),
            sp.GetRequiredService<IReadOnlyDictionary<string, string>>()));
        services.AddSingleton(sp =>
        {
            var environment = sp.GetRequiredService<IReadOnlyDictionary<string, string>>();
            return new MetricsSync(sp.GetRequiredService<SidecarStore>(), sp.GetRequiredService<StoreWriter>(), sp.GetRequiredService<TimeProvider>(), name => environment.GetValueOrDefault(name), sp.GetRequiredService<ILogger<MetricsSync>>())
            {
                Options = sp.GetRequiredService<SidecarConfig>().Metrics,
            };
        });

        services.AddSingleton<SidecarStartup>();
        services.AddSingleton<SocketServer>();
        services.AddHostedService(sp => sp.GetRequiredService<SidecarStartup>());
        services.AddHostedService<Housekeeping>();
        services.AddHostedService(sp => sp.GetRequiredService<SocketServer>());
        services.AddSingleton<Lingering>();
        services.AddHostedService(sp => sp.GetRequiredService<Lingering>());
        services.AddHostedService<StdioServer>();
        return builder.Build();
    }

    private static Dictionary<string, string> ProcessEnvironment()
    {
        // A loop, not LINQ over DictionaryEntry: that struct's generic instantiations are jitted at start.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment[(string)e.Key] = (string?)e.Value ?? string.Empty;
        }

        return environment;
    }

    private static ProviderRegistry LoadProviders(string configDir, IReadOnlyDictionary<string, string> environment, ILogger logger)
    {
        var providers = new ProviderRegistry(name => environment.GetValueOrDefault(name));
        foreach (var error in providers.LoadConfigDirectory(configDir))
        {
            logger.LogWarning("provider profile rejected: {Error}", error);
        }

        return providers;
    }
}
