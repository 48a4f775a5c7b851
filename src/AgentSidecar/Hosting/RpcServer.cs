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

    /// <summary>
    /// The primary client left (its input ended or it was closed), and no other took its place yet:
    /// <see cref="Lingering"/> decides whether the sidecar ends now or outlives it.
    /// </summary>
    public event Action<JsonRpcConnection>? PrimaryLeft;

    public bool IsPrimary(JsonRpcConnection connection) => ReferenceEquals(connection, Volatile.Read(ref _primary));

    public bool HasPrimary => Volatile.Read(ref _primary) is not null;

    /// <summary>
    /// Makes a relayed editor (<c>$/handOver</c>) the primary client if there is none now; false
    /// if another editor is the primary (this one is then an ordinary client).
    /// </summary>
    public bool TryAdoptPrimary(JsonRpcConnection connection)
    {
        if (Interlocked.CompareExchange(ref _primary, connection, null) is not null)
        {
            return false;
        }

        connection.Closed.Register(() => LeavePrimary(connection));
        return true;
    }

    /// <summary>A new connection over <paramref name="input"/>/<paramref name="output"/>; the caller runs it.</summary>
    public JsonRpcConnection Connect(Stream input, Stream output, string name, bool primary)
    {
        var connection = new JsonRpcConnection(input, output, methods, scheduler, options, _logger, name, ErrorMapper.Map);
        clients.Add(connection);
        connection.Closed.Register(() => clients.Remove(connection));
        if (primary)
        {
            _primary = connection;
            connection.Closed.Register(() => LeavePrimary(connection));
        }

        connection.AddTarget(ActivatorUtilities.CreateInstance<LifecycleHandlers>(services, connection));
        return connection;
    }

    private void LeavePrimary(JsonRpcConnection connection)
    {
        if (Interlocked.CompareExchange(ref _primary, null, connection) == connection)
        {
            PrimaryLeft?.Invoke(connection);
        }
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
