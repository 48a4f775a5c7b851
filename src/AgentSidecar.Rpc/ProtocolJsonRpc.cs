using System.Reflection;
using AgentSidecar.Protocol;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;
using StreamJsonRpc.Reflection;

namespace AgentSidecar.Rpc;

/// <summary>
/// StreamJsonRpc's dispatcher with protocol v1's three rules on top: requests about the same
/// session or worker run one after another in the order they arrived (others concurrently), an
/// exception becomes the documented <c>{code, message, data}</c> (never a stack trace), and work
/// can wait for a response to be sent (an attachment streams only after its result).
/// </summary>
internal sealed partial class ProtocolJsonRpc : JsonRpc
{
    private readonly JsonRpcConnection _connection;
    private readonly OrderedScheduler _scheduler;
    private readonly Func<Exception, RpcException?>? _mapException;
    private readonly ILogger _logger;

    public ProtocolJsonRpc(ProtocolMessageHandler handler, JsonRpcConnection connection, OrderedScheduler scheduler, Func<Exception, RpcException?>? mapException, ILogger logger)
        : base(handler)
    {
        _connection = connection;
        _scheduler = scheduler;
        _mapException = mapException;
        _logger = logger;

        // Requests are taken up one at a time in arrival order (each only queues itself below), so
        // the per-key order is the order on the wire.
        SynchronizationContext = new Microsoft.VisualStudio.Threading.NonConcurrentSynchronizationContext(sticky: false);
        AllowModificationWhileListening = true;
        TraceSource = new System.Diagnostics.TraceSource("agent-sidecar.rpc", System.Diagnostics.SourceLevels.Off);
    }

    protected override ValueTask<JsonRpcMessage> DispatchRequestAsync(JsonRpcRequest request, TargetMethod targetMethod, CancellationToken cancellationToken)
    {
        var scope = _connection.BeginRequest(request);
        Task<JsonRpcMessage> Run()
        {
            RpcRequestContext.CurrentScope = scope;
            return base.DispatchRequestAsync(request, targetMethod, cancellationToken).AsTask();
        }

        // Off the dispatcher's context at once: a handler's synchronous part never holds up the
        // next request.
        var key = request.ArgumentsList is [IOrderedRequest { OrderingKey: { } k }] ? k : null;
        return new ValueTask<JsonRpcMessage>(key is null ? Task.Run(Run, CancellationToken.None) : _scheduler.RunAsync(key, Run));
    }

    protected override JsonRpcError.ErrorDetail CreateErrorDetails(JsonRpcRequest request, Exception exception)
    {
        var ex = Unwrap(exception);
        var error = ex switch
        {
            RpcException rpc => rpc,
            _ when _mapException?.Invoke(ex) is { } mapped => mapped,
            _ => null,
        };
        if (error is null)
        {
            LogHandlerFailed(_logger, ex, request.Method ?? "?");
            error = new RpcException(ErrorCodes.InternalError, $"internal error: {ex.Message}");
        }

        return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)error.Code, Message = error.Message, Data = error.ErrorData };
    }

    protected override void OnResponseSent(JsonRpcMessage response)
    {
        base.OnResponseSent(response);
        if (response is IJsonRpcMessageWithId withId)
        {
            _connection.ResponseSent(withId.RequestId);
        }
    }

    private static Exception Unwrap(Exception ex)
    {
        while (true)
        {
            switch (ex)
            {
                case TargetInvocationException { InnerException: { } inner }:
                    ex = inner;
                    continue;
                case AggregateException { InnerExceptions.Count: 1 } agg:
                    ex = agg.InnerExceptions[0];
                    continue;
                default:
                    return ex;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "handler for '{Method}' failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string method);
}
