using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using AgentSidecar.Protocol;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Rpc;

public enum ConnectionState
{
    New,
    Initialized,
    ShutdownRequested,
    Closed,
}

/// <summary>
/// One JSON-RPC peer: a read loop that never waits for a handler, a single writer that sends whole
/// messages (never interleaved), in-flight request cancellation and the LSP lifecycle rules.
/// </summary>
public sealed partial class JsonRpcConnection : IAsyncDisposable
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };
    private static long s_nextId;

    private readonly HeaderDelimitedReader _reader;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly RpcDispatcher _dispatcher;
    private readonly OrderedScheduler _scheduler;
    private readonly ILogger _logger;
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _inFlight = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _drainLock = new();
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queuedBytes;
    private long _writtenBytes;
    private long _lastProgressAt = Environment.TickCount64;
    private Task? _writerTask;

    public JsonRpcConnection(Stream input, Stream output, RpcDispatcher dispatcher, OrderedScheduler scheduler, RpcOptions options, ILogger logger, string name)
    {
        _input = PipeReader.Create(input, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        // Problem: with the pipe's default 4 KiB segments every flush reached the client as one
        // write(2) per 4 KiB (a replay of 336 MB: ~80,000 socket sends, each waking the reader and
        // the socket engine). Solution: 64 KiB segments (16x fewer writes; still below the large
        // object heap's threshold).
        _output = PipeWriter.Create(output, new StreamPipeWriterOptions(minimumBufferSize: OutputSegmentBytes, leaveOpen: true));
        _reader = new HeaderDelimitedReader(_input, options.MaxMessageBytes);
        _dispatcher = dispatcher;
        _scheduler = scheduler;
        _logger = logger;
        Options = options;
        Name = name;
        Id = Interlocked.Increment(ref s_nextId);
    }

    public long Id { get; }

    public string Name { get; }

    public RpcOptions Options { get; }

    public ConnectionState State { get; private set; }

    /// <summary>Cancelled when the connection ends, for whatever reason.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Bytes queued for the client and not yet written.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Bytes written to the client so far; a stall is when this stops moving.</summary>
    public long WrittenBytes => Interlocked.Read(ref _writtenBytes);

    /// <summary>Free-form per-connection state for the host (e.g. its attachments).</summary>
    public object? Tag { get; set; }

    /// <summary>Why the read loop ended: null for a clean end of input.</summary>
    public string? CloseReason { get; private set; }

    public void MarkInitialized() => State = ConnectionState.Initialized;

    public void MarkShutdownRequested() => State = ConnectionState.ShutdownRequested;

    /// <summary>Reads and dispatches until the input ends, the framing is lost or the connection is closed.</summary>
    public async Task RunAsync()
    {
        _writerTask = Task.Run(WriteLoopAsync);
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                var frame = await _reader.ReadAsync(_closed.Token).ConfigureAwait(false);
                switch (frame.Kind)
                {
                    case FrameKind.EndOfStream:
                        return;
                    case FrameKind.FramingError:
                        CloseReason = frame.Error;
                        LogFramingError(_logger, Name, frame.Error);
                        return;
                    case FrameKind.TooLarge:
                        SendError(null, new RpcException(ErrorCodes.PayloadTooLarge, $"message of {frame.Length} bytes exceeds the limit of {_reader.MaxMessageBytes} bytes; it was skipped"));
                        continue;
                    case FrameKind.Message:
                        try
                        {
                            await HandleMessageAsync(frame.Body).ConfigureAwait(false);
                        }
                        finally
                        {
                            _reader.Consume(frame);
                        }

                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            CloseReason = ex.Message;
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops reading, lets queued messages go out (bounded), and releases the streams.</summary>
    public async Task CloseAsync()
    {
        if (State == ConnectionState.Closed)
        {
            return;
        }

        State = ConnectionState.Closed;
        foreach (var cts in _inFlight.Values)
        {
            cts.Cancel();
        }

        _outgoing.Writer.TryComplete();
        if (_writerTask is not null)
        {
            await Task.WhenAny(_writerTask, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }

        await _closed.CancelAsync().ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _closed.Dispose();
    }

    private async Task HandleMessageAsync(ReadOnlySequence<byte> body)
    {
        if (!IsValidUtf8(body))
        {
            SendError(null, new RpcException(ErrorCodes.ParseError, "parse error: the body is not valid UTF-8"));
            return;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            SendError(null, new RpcException(ErrorCodes.ParseError, $"parse error: the body is not valid JSON ({Shorten(ex.Message)})"));
            return;
        }

        using (doc)
        {
            try
            {
                await HandleDocumentAsync(doc.RootElement).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                // Problem: valid JSON whose envelope names or strings escape a lone surrogate
                // ("\ud800") throws when read, which ended the connection without a word (found
                // by fuzzing). Solution: it is not readable text, so it is a parse error.
                SendError(null, new RpcException(ErrorCodes.ParseError, $"parse error: the message has an escape that is not valid UTF-16 ({Shorten(ex.Message)})"));
            }
        }
    }

    private async Task HandleDocumentAsync(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            SendError(null, new RpcException(ErrorCodes.InvalidRequest, root.ValueKind == JsonValueKind.Array
                ? "invalid request: batches are not supported; send one message per frame"
                : "invalid request: a message must be a JSON object"));
            return;
        }

        string? id = null;
        if (root.TryGetProperty("id", out var idElement))
        {
            if (idElement.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
            {
                SendError(null, new RpcException(ErrorCodes.InvalidRequest, "invalid request: 'id' must be a number or a string"));
                return;
            }

            id = idElement.GetRawText();
        }

        if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0")
        {
            SendError(id, new RpcException(ErrorCodes.InvalidRequest, "invalid request: 'jsonrpc' must be \"2.0\""));
            return;
        }

        if (!root.TryGetProperty("method", out var methodElement))
        {
            if (root.TryGetProperty("result", out _) || root.TryGetProperty("error", out _))
            {
                return; // A response to a request we never send: ignore.
            }

            SendError(id, new RpcException(ErrorCodes.InvalidRequest, "invalid request: 'method' is missing"));
            return;
        }

        if (methodElement.ValueKind != JsonValueKind.String || methodElement.GetString() is not { Length: > 0 } method)
        {
            SendError(id, new RpcException(ErrorCodes.InvalidRequest, "invalid request: 'method' must be a non-empty string"));
            return;
        }

        JsonElement? paramsElement = null;
        if (root.TryGetProperty("params", out var p))
        {
            if (p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
            {
                SendError(id, new RpcException(ErrorCodes.InvalidRequest, "invalid request: 'params' must be an object"));
                return;
            }

            paramsElement = p;
        }

        if (method == Methods.CancelRequest)
        {
            if (paramsElement is { ValueKind: JsonValueKind.Object } cp && cp.TryGetProperty("id", out var cancelId)
                && _inFlight.TryGetValue(cancelId.GetRawText(), out var toCancel))
            {
                toCancel.Cancel();
            }

            return;
        }

        var handler = _dispatcher.Find(method);
        if (State == ConnectionState.New && handler is not { AllowBeforeInitialize: true })
        {
            SendError(id, new RpcException(ErrorCodes.ServerNotInitialized, $"'{method}' before 'initialize': send 'initialize' first"));
            return;
        }

        if (State == ConnectionState.ShutdownRequested && method != Methods.Exit)
        {
            SendError(id, new RpcException(ErrorCodes.InvalidRequest, $"'{method}' after 'shutdown': only 'exit' is accepted now"));
            return;
        }

        if (handler is null)
        {
            if (id is null && method.StartsWith("$/", StringComparison.Ordinal))
            {
                return; // Optional notifications may be ignored (as in LSP).
            }

            SendError(id, new RpcException(ErrorCodes.MethodNotFound, $"method not found: '{method}'"));
            return;
        }

        object parsed;
        try
        {
            parsed = handler.Parse(paramsElement);
        }
        catch (Exception ex)
        {
            SendError(id, _dispatcher.MapException(ex));
            return;
        }

        var context = new RpcRequestContext(this, method);

        // Registered before dispatch, so a $/cancelRequest right behind the request finds it.
        CancellationTokenSource? cts = null;
        if (id is not null)
        {
            cts = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
            _inFlight[id] = cts;
        }

        if (handler.AllowBeforeInitialize)
        {
            // Lifecycle methods run inline: nothing after them is read until they are done.
            await ExecuteAsync(handler, parsed, context, id, cts).ConfigureAwait(false);
            return;
        }

        if (parsed is IOrderedRequest { OrderingKey: { } key })
        {
            _scheduler.Enqueue(key, () => ExecuteAsync(handler, parsed, context, id, cts));
        }
        else
        {
            _ = Task.Run(() => ExecuteAsync(handler, parsed, context, id, cts));
        }
    }

    private static bool IsValidUtf8(ReadOnlySequence<byte> body) =>
        body.IsSingleSegment ? System.Text.Unicode.Utf8.IsValid(body.FirstSpan) : System.Text.Unicode.Utf8.IsValid(body.ToArray());

    private async Task ExecuteAsync(RpcHandler handler, object parsed, RpcRequestContext context, string? id, CancellationTokenSource? cts)
    {
        try
        {
            var result = await handler.Invoke(parsed, context, cts?.Token ?? _closed.Token).ConfigureAwait(false);
            if (id is not null)
            {
                SendResult(id, handler, result);
            }

            context.ResponseSent();
        }
        catch (OperationCanceledException) when (cts?.IsCancellationRequested == true)
        {
            SendError(id, new RpcException(ErrorCodes.RequestCancelled, "request cancelled"));
        }
        catch (Exception ex)
        {
            var error = _dispatcher.MapException(ex);
            if (error.Code == ErrorCodes.InternalError)
            {
                LogHandlerFailed(_logger, ex, handler.Method);
            }

            if (id is not null)
            {
                SendError(id, error);
            }
        }
        finally
        {
            if (id is not null)
            {
                _inFlight.TryRemove(id, out _);
                cts!.Dispose();
            }
        }
    }

    private static string Shorten(string s) => s.Length > 160 ? s[..160] + "…" : s;

    [LoggerMessage(Level = LogLevel.Error, Message = "{Connection}: framing lost ({Reason}); closing the connection")]
    private static partial void LogFramingError(ILogger logger, string connection, string? reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "handler for '{Method}' failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Connection}: write failed ({Reason}); closing")]
    private static partial void LogWriteFailed(ILogger logger, string connection, string reason);
}
