using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentSidecar.Protocol;

namespace AgentSidecar.Rpc;

public sealed partial class JsonRpcConnection
{
    /// <summary>Flush to the client at least this often while a burst is being written.</summary>
    private const int FlushThresholdBytes = 256 * 1024;

    /// <summary>The output pipe's segment size: each segment reaches the client as one write.</summary>
    private const int OutputSegmentBytes = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>A message body to frame, or (<paramref name="Framed"/>) whole frames to copy as they are.</summary>
    private readonly record struct Outgoing(byte[] Buffer, int Length, bool Framed = false);

    /// <summary>Sends a notification with a typed params object.</summary>
    public bool Notify<T>(string method, T parameters, JsonTypeInfo<T> typeInfo) =>
        Send(w =>
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0"u8);
            w.WriteString("method"u8, method);
            w.WritePropertyName("params"u8);
            JsonSerializer.Serialize(w, parameters, typeInfo);
            w.WriteEndObject();
        });

    /// <summary>
    /// Writes one whole message with <paramref name="write"/> and queues it. False when the
    /// connection is closed (the message is dropped).
    /// </summary>
    public bool Send(Action<Utf8JsonWriter> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return Enqueue(buffer.WrittenSpan);
    }

    /// <summary>
    /// Queues <paramref name="count"/> messages (items <paramref name="start"/>…) framed into one
    /// buffer, as one entry: all of them or, when the connection is closed, none (false).
    /// <paramref name="length"/> gives a message's body length in bytes and
    /// <paramref name="write"/> writes exactly that many bytes of JSON.
    /// </summary>
    public bool SendMany<T>(IReadOnlyList<T> items, int start, int count, Func<T, int> length, SpanAction<byte, T> write)
    {
        // Problem: a replay of small events paid per event for a Utf8JsonWriter, a rented buffer,
        // a channel entry and two copies. Solution: the bodies are measured, one buffer of the
        // batch's exact size is rented, and each frame is written into it in place; the queue
        // takes that buffer as it is.
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
        return EnqueueOwned(buffer, pos, framed: true);
    }

    private static void AppendFrame(System.IO.Pipelines.PipeWriter output, ReadOnlySpan<byte> body)
    {
        // "Content-Length: " + up to 10 digits + "\r\n\r\n"
        var span = output.GetSpan(32 + body.Length);
        "Content-Length: "u8.CopyTo(span);
        var pos = 16;
        Utf8Formatter.TryFormat(body.Length, span[pos..], out var digits);
        pos += digits;
        "\r\n\r\n"u8.CopyTo(span[pos..]);
        pos += 4;
        body.CopyTo(span[pos..]);
        output.Advance(pos + body.Length);
    }

    /// <summary>
    /// Waits until the queue is below the stream high-water mark. Returns false when the client
    /// has read nothing for <see cref="RpcOptions.StallTimeout"/> (the caller detaches it).
    /// </summary>
    public async ValueTask<bool> WaitForRoomAsync(CancellationToken cancellationToken)
    {
        // Problem: a stall measured from the start of each wait was reset whenever the queue dipped
        // under the mark, which the writer moving a batch into its pipe does without the client
        // reading a byte: with a stall timeout over a few seconds a client that read nothing was
        // never detached (found by the slow-client fault test). Solution: measure from the writer's
        // last progress (a completed flush, or the start of a burst after idling).
        while (QueuedBytes > Options.StreamHighWaterBytes)
        {
            Task drained;
            lock (_drainLock)
            {
                drained = _drained.Task;
            }

            if (QueuedBytes <= Options.StreamHighWaterBytes)
            {
                break;
            }

            var remaining = Options.StallTimeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastProgressAt));
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            await Task.WhenAny(drained, Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return State != ConnectionState.Closed;
    }

    private void SendResult(string id, RpcHandler handler, object? result) =>
        Send(w =>
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0"u8);
            w.WritePropertyName("id"u8);
            w.WriteRawValue(id, skipInputValidation: true);
            w.WritePropertyName("result"u8);
            handler.WriteResult(result, w);
            w.WriteEndObject();
        });

    private void SendError(string? id, RpcException error) =>
        Send(w =>
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0"u8);
            w.WritePropertyName("id"u8);
            if (id is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteRawValue(id, skipInputValidation: true);
            }

            w.WriteStartObject("error"u8);
            w.WriteNumber("code"u8, error.Code);
            w.WriteString("message"u8, error.Message);
            if (error.ErrorData is { } data)
            {
                w.WritePropertyName("data"u8);
                JsonSerializer.Serialize(w, data, ProtocolJsonContext.Default.JsonObject);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        });

    private bool Enqueue(ReadOnlySpan<byte> body)
    {
        if (State == ConnectionState.Closed)
        {
            return false;
        }

        var rented = ArrayPool<byte>.Shared.Rent(body.Length);
        body.CopyTo(rented);
        return EnqueueOwned(rented, body.Length, framed: false);
    }

    /// <summary>Queues a rented buffer, which the queue returns to the pool (also when it fails).</summary>
    private bool EnqueueOwned(byte[] rented, int length, bool framed)
    {
        if (State == ConnectionState.Closed)
        {
            ArrayPool<byte>.Shared.Return(rented);
            return false;
        }

        if (QueuedBytes > Options.HardLimitBytes)
        {
            ArrayPool<byte>.Shared.Return(rented);
            LogWriteFailed(_logger, Name, $"more than {Options.HardLimitBytes} bytes queued: the client is not reading");
            _ = CloseAsync();
            return false;
        }

        Interlocked.Add(ref _queuedBytes, length);
        if (!_outgoing.Writer.TryWrite(new Outgoing(rented, length, framed)))
        {
            Interlocked.Add(ref _queuedBytes, -length);
            ArrayPool<byte>.Shared.Return(rented);
            return false;
        }

        return true;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                Interlocked.Exchange(ref _lastProgressAt, Environment.TickCount64);
                var unflushed = 0;
                while (reader.TryRead(out var message))
                {
                    WriteFrame(message);
                    unflushed += message.Length;
                    Interlocked.Add(ref _queuedBytes, -message.Length);
                    ArrayPool<byte>.Shared.Return(message.Buffer);
                    if (unflushed >= FlushThresholdBytes)
                    {
                        await FlushAsync(unflushed).ConfigureAwait(false);
                        unflushed = 0;
                    }
                }

                await FlushAsync(unflushed).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            LogWriteFailed(_logger, Name, ex.Message);
            State = ConnectionState.Closed;
            _outgoing.Writer.TryComplete();
            await _closed.CancelAsync().ConfigureAwait(false);
            while (reader.TryRead(out var dropped))
            {
                Interlocked.Add(ref _queuedBytes, -dropped.Length);
                ArrayPool<byte>.Shared.Return(dropped.Buffer);
            }
        }
        finally
        {
            SignalDrained();
        }
    }

    private void WriteFrame(Outgoing message)
    {
        if (message.Framed)
        {
            _output.Write(message.Buffer.AsSpan(0, message.Length));
        }
        else
        {
            AppendFrame(_output, message.Buffer.AsSpan(0, message.Length));
        }
    }

    private async ValueTask FlushAsync(int bytes)
    {
        var result = await _output.FlushAsync(_closed.Token).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new IOException("the client closed its input");
        }

        Interlocked.Add(ref _writtenBytes, bytes);
        Interlocked.Exchange(ref _lastProgressAt, Environment.TickCount64);
        SignalDrained();
    }

    private void SignalDrained()
    {
        TaskCompletionSource old;
        lock (_drainLock)
        {
            old = _drained;
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        old.TrySetResult();
    }
}
