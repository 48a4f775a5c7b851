using AgentSidecar.Handlers;
using AgentSidecar.Rpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// Makes protocol v1 connections: each gets the lifecycle handlers at once, and the rest once its
/// <c>initialize</c> found the sidecar ready (they are made for the connection, with the Core
/// services injected, which exist only from then on).
/// </summary>
internal sealed class RpcServer(IServiceProvider services, MethodTable methods, OrderedScheduler scheduler, RpcOptions options, ClientConnections clients, ILoggerFactory loggers)
{
    /// <summary>Every handler class; one instance of each per connection.</summary>
    public static readonly Type[] HandlerTypes =
        [typeof(LifecycleHandlers), typeof(ProviderHandlers), typeof(SessionHandlers), typeof(WorkerHandlers), typeof(ChatHandlers), typeof(MetricsHandlers)];

    private readonly ILogger _logger = loggers.CreateLogger("rpc");
    private JsonRpcConnection? _primary;

    public bool IsPrimary(JsonRpcConnection connection) => ReferenceEquals(connection, _primary);

    /// <summary>A new connection over <paramref name="input"/>/<paramref name="output"/>; the caller runs it.</summary>
    public JsonRpcConnection Connect(Stream input, Stream output, string name, bool primary)
    {
        var connection = new JsonRpcConnection(input, output, methods, scheduler, options, _logger, name, ErrorMapper.Map);
        if (primary)
        {
            _primary = connection;
        }

        clients.Add(connection);
        connection.Closed.Register(() => clients.Remove(connection));
        connection.AddTarget(ActivatorUtilities.CreateInstance<LifecycleHandlers>(services, connection));
        return connection;
    }

    /// <summary>Adds the handlers of everything but the lifecycle (called by initialize, once ready).</summary>
    public void AddHandlers(JsonRpcConnection connection)
    {
        foreach (var type in HandlerTypes.Where(t => t != typeof(LifecycleHandlers)))
        {
            var wantsConnection = type.GetConstructors()[0].GetParameters().Any(p => p.ParameterType == typeof(JsonRpcConnection));
            connection.AddTarget(wantsConnection ? ActivatorUtilities.CreateInstance(services, type, connection) : ActivatorUtilities.CreateInstance(services, type));
        }
    }
}
