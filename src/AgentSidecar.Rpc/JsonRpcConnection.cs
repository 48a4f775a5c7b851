using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.Json;
using AgentSidecar.Protocol;
using Microsoft.Extensions.Logging;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace AgentSidecar.Rpc;

public enum ConnectionState
{
    New,
    Initialized,
    ShutdownRequested,
    Closed,
}

/// <summary>
/// One client of protocol v1: StreamJsonRpc (<see cref="ProtocolJsonRpc"/>) over LSP framing
/// (<see cref="ProtocolMessageHandler"/>), an output queue that a slow client cannot block
/// (<see cref="OutputQueue"/>), the LSP lifecycle state, and the event streams' flow control.
/// </summary>
public sealed partial class JsonRpcConnection : IAsyncDisposable
{
    private static long s_nextId;

    private readonly PipeReader _input;
    private readonly Stream _outputStream;
    private readonly OutputQueue _output = new();
    private readonly ProtocolMessageHandler _handler;
    private readonly ProtocolJsonRpc _rpc;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closed = new();
    private readonly ConcurrentDictionary<RequestId, RpcRequestContext> _inFlight = new();
    private readonly SystemTextJsonFormatter _formatter;
    private TaskCompletionSource? _lifecycleAnswered;
    private RequestId _lifecycleId;
    private Task? _pump;
    private int _closing;

    public JsonRpcConnection(Stream input, Stream output, MethodTable methods, OrderedScheduler scheduler, RpcOptions options, ILogger logger, string name, Func<Exception, RpcException?>? mapException = null)
    {
        _input = PipeReader.Create(input, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _outputStream = output;
        _logger = logger;
        _formatter = new SystemTextJsonFormatter { JsonSerializerOptions = ProtocolJsonContext.Default.Options };
        _handler = new ProtocolMessageHandler(_input, _output, _formatter, methods, this, options.MaxMessageBytes);
        _rpc = new ProtocolJsonRpc(_handler, this, scheduler, mapException, logger);
        Options = options;
        Name = name;
        Methods = methods;
        Id = Interlocked.Increment(ref s_nextId);
    }

    public long Id { get; }

    public string Name { get; }

    public RpcOptions Options { get; }

    public MethodTable Methods { get; }

    public ConnectionState State { get; private set; }

    /// <summary>Cancelled when the connection ends, for whatever reason.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Bytes queued for the client and not yet written.</summary>
    public long QueuedBytes => _output.QueuedBytes;

    /// <summary>Bytes written to the client so far; a stall is when this stops moving.</summary>
    public long WrittenBytes => _output.WrittenBytes;

    /// <summary>Free-form per-connection state for the host (e.g. its attachments).</summary>
    public object? Tag { get; set; }

    /// <summary>Why the connection ended: null for a clean end of input.</summary>
    public string? CloseReason { get; private set; }

    public void MarkInitialized() => State = ConnectionState.Initialized;

    public void MarkShutdownRequested() => State = ConnectionState.ShutdownRequested;

    /// <summary>Adds a handler object (its <see cref="JsonRpcMethodAttribute"/> methods); allowed while serving.</summary>
    public void AddTarget(object target) =>
        _rpc.AddLocalRpcTarget(target, new JsonRpcTargetOptions { AllowNonPublicInvocation = false, DisposeOnDisconnect = false });

    /// <summary>Serves until the input ends, the framing is lost or the connection is closed.</summary>
    public async Task RunAsync()
    {
        _pump = Task.Run(() => PumpAsync());
        _rpc.Disconnected += (_, e) =>
        {
            if (e.Reason is DisconnectedReason.StreamError or DisconnectedReason.ParseError && e.Exception is not OperationCanceledException)
            {
                CloseReason ??= e.Exception?.Message ?? e.Description;
            }
        };
        _rpc.StartListening();
        try
        {
            await _rpc.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            CloseReason ??= ex.Message;
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops reading, lets queued messages go out (bounded), and releases the streams.</summary>
    public async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        State = ConnectionState.Closed;
        _lifecycleAnswered?.TrySetResult();
        _rpc.Dispose();
        _output.Complete();
        if (_pump is not null)
        {
            await Task.WhenAny(_pump, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }

        await _closed.CancelAsync().ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
        _inFlight.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _closed.Dispose();
    }

    /// <summary>Sends a notification. False when the connection is closed (it is dropped).</summary>
    public bool Notify<T>(string method, T parameters)
    {
        if (State == ConnectionState.Closed || !CheckHardLimit())
        {
            return false;
        }

        var sent = _rpc.NotifyWithParameterObjectAsync(method, parameters);
        if (!sent.IsCompleted)
        {
            _ = sent.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        else if (sent.IsFaulted)
        {
            _ = sent.Exception;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Sends <paramref name="count"/> messages (items <paramref name="start"/>…) framed into one
    /// buffer: all of them or, when the connection is closed, none (false).
    /// <paramref name="length"/> gives a message's body length in bytes and
    /// <paramref name="write"/> writes exactly that many bytes of JSON.
    /// </summary>
    public async ValueTask<bool> SendManyAsync<T>(IReadOnlyList<T> items, int start, int count, Func<T, int> length, SpanAction<byte, T> write)
    {
        // Problem: a replay of 1,000,000 small events through per-message notifications
        // (StreamJsonRpc's NotifyAsync: a request object, a serialisation, a semaphore and a flush
        // each) took ~3 s, against the goal of 1 s. Solution: the event bodies are assembled from
        // their stored JSON into one buffer of frames, which goes through the library's writer
        // (same lock, same queue) as one message (docs/benchmarks.md).
        if (State == ConnectionState.Closed || !CheckHardLimit())
        {
            return false;
        }

        var buffer = Frame(items, start, count, length, write, out var used);
        try
        {
            await _handler.WriteAsync(new PreFramedMessages(buffer, used), CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or IOException or ConnectionLostException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Waits until the queue is below the stream high-water mark. Returns false when the client
    /// has read nothing for <see cref="RpcOptions.StallTimeout"/> (the caller detaches it).
    /// </summary>
    public async ValueTask<bool> WaitForRoomAsync(CancellationToken cancellationToken)
    {
        // The stall is measured from the client's last progress (a write that went out, or the
        // start of a burst after idling), not from the start of each wait: the queue dips under
        // the mark without the client reading a byte, which reset a per-wait clock forever
        // (found by the slow-client fault test).
        while (QueuedBytes > Options.StreamHighWaterBytes)
        {
            var drained = _output.Drained;
            if (QueuedBytes <= Options.StreamHighWaterBytes)
            {
                break;
            }

            var remaining = Options.StallTimeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - _output.LastProgressAt);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            await Task.WhenAny(drained, Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return State != ConnectionState.Closed;
    }

    /// <summary>
    /// Registers a request read from the client; false when a request with the same id is still in
    /// progress (the dispatcher's cancellation needs ids to be unique while they are in flight).
    /// </summary>
    internal bool Accept(JsonRpcRequest request) =>
        !request.IsResponseExpected || _inFlight.TryAdd(request.RequestId, new RpcRequestContext(this, request.RequestId, request.Method ?? string.Empty));

    /// <summary>The context of a request being dispatched.</summary>
    internal RpcRequestContext BeginRequest(JsonRpcRequest request) =>
        request.IsResponseExpected && _inFlight.TryGetValue(request.RequestId, out var context)
            ? context
            : new RpcRequestContext(this, request.RequestId, request.Method ?? string.Empty);

    internal void ResponseSent(RequestId id)
    {
        if (_inFlight.TryRemove(id, out var context))
        {
            context.ResponseSent();
        }

        if (_lifecycleAnswered is { } answered && id.Equals(_lifecycleId))
        {
            answered.TrySetResult();
        }
    }

    /// <summary>Requests read and not yet answered (for tests: nothing may stay here).</summary>
    internal int InFlightCount => _inFlight.Count;

    internal void HoldReadsUntilAnswered(RequestId id)
    {
        _lifecycleId = id;
        _lifecycleAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal Task LifecycleAnsweredAsync() => _lifecycleAnswered?.Task ?? Task.CompletedTask;

    internal void FramingLost(string? reason)
    {
        CloseReason = reason ?? "framing lost";
        LogFramingError(_logger, Name, reason);
    }

    private static byte[] Frame<T>(IReadOnlyList<T> items, int start, int count, Func<T, int> length, SpanAction<byte, T> write, out int used)
    {
        // The bodies are measured first, one buffer of the batch's exact size is rented, and each
        // frame is written into it in place.
        var lengths = ArrayPool<int>.Shared.Rent(count);
        var total = 0L;
        for (var i = 0; i < count; i++)
        {
            lengths[i] = length(items[start + i]);
            total += 32 + lengths[i];
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)total);
        var pos = 0;
        for (var i = 0; i < count; i++)
        {
            var span = buffer.AsSpan(pos);
            "Content-Length: "u8.CopyTo(span);
            var at = 16;
            Utf8Formatter.TryFormat(lengths[i], span[at..], out var digits);
            at += digits;
            "\r\n\r\n"u8.CopyTo(span[at..]);
            at += 4;
            write(span.Slice(at, lengths[i]), items[start + i]);
            pos += at + lengths[i];
        }

        ArrayPool<int>.Shared.Return(lengths);
        used = pos;
        return buffer;
    }

    private bool CheckHardLimit()
    {
        if (QueuedBytes <= Options.HardLimitBytes)
        {
            return true;
        }

        LogWriteFailed(_logger, Name, $"more than {Options.HardLimitBytes} bytes queued: the client is not reading");
        _ = CloseAsync();
        return false;
    }

    private async Task PumpAsync()
    {
        try
        {
            await _output.PumpAsync(_outputStream, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            LogWriteFailed(_logger, Name, ex.Message);
            _ = CloseAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Connection}: framing lost ({Reason}); closing the connection")]
    private static partial void LogFramingError(ILogger logger, string connection, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Connection}: write failed ({Reason}); closing")]
    private static partial void LogWriteFailed(ILogger logger, string connection, string reason);
}
