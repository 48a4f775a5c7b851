using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using AgentSidecar.Protocol;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace AgentSidecar.Rpc;

/// <summary>Whole messages already framed for the wire (a batch of events), written as they are.</summary>
internal sealed class PreFramedMessages(byte[] buffer, int length) : JsonRpcMessage
{
    public ReadOnlySpan<byte> Bytes => buffer.AsSpan(0, length);

    public int Length => length;
}

/// <summary>
/// StreamJsonRpc's LSP framing (<see cref="HeaderDelimitedMessageHandler"/>) with protocol v1's
/// rules on the way in. Writing is the library's, plus pre-framed event batches. Reading is ours
/// (<see cref="HeaderDelimitedReader"/>, <see cref="IncomingMessage"/>) for what the library's
/// reader cannot do and the contract promises: a message over the size limit is answered with 1007
/// and skipped without being buffered (the library buffers any declared length), a body that is not
/// JSON or not a valid request is answered and the connection goes on (the library disconnects),
/// and the lifecycle (-32002 before initialize, only exit after shutdown) holds.
/// </summary>
internal sealed class ProtocolMessageHandler : HeaderDelimitedMessageHandler
{
    private readonly HeaderDelimitedReader _frames;
    private readonly MethodTable _methods;
    private readonly JsonRpcConnection _connection;
    private readonly OutputQueue _output;

    public ProtocolMessageHandler(PipeReader input, OutputQueue output, SystemTextJsonFormatter formatter, MethodTable methods, JsonRpcConnection connection, long maxMessageBytes)
        : base(output.Writer, input, formatter)
    {
        _frames = new HeaderDelimitedReader(input, maxMessageBytes);
        _methods = methods;
        _connection = connection;
        _output = output;
    }

    public long MaxMessageBytes => _frames.MaxMessageBytes;

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // A lifecycle request runs alone: nothing after it is read until it is answered, so a
            // request right behind initialize is not refused as "before initialize".
            await _connection.LifecycleAnsweredAsync().ConfigureAwait(false);
            var frame = await _frames.ReadAsync(cancellationToken).ConfigureAwait(false);
            switch (frame.Kind)
            {
                case FrameKind.EndOfStream:
                    return null;
                case FrameKind.FramingError:
                    _connection.FramingLost(frame.Error);
                    return null;
                case FrameKind.TooLarge:
                    await AnswerAsync(null, new RpcException(ErrorCodes.PayloadTooLarge, $"message of {frame.Length} bytes exceeds the limit of {_frames.MaxMessageBytes} bytes; it was skipped"), cancellationToken).ConfigureAwait(false);
                    continue;
            }

            IncomingMessage incoming;
            try
            {
                incoming = IncomingMessage.Read(frame.Body, _methods, _connection.State);
            }
            finally
            {
                _frames.Consume(frame);
            }

            if (incoming.Error is { } error)
            {
                await AnswerAsync(incoming.RawId, error, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (incoming.Request is { } request)
            {
                if (!_connection.Accept(request))
                {
                    await AnswerAsync(incoming.RawId, new RpcException(ErrorCodes.InvalidRequest, $"invalid request: id {incoming.RawId} is already used by a request in progress"), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (request.IsResponseExpected && MethodTable.AllowedBeforeInitialize(request.Method!))
                {
                    _connection.HoldReadsUntilAnswered(request.RequestId);
                }

                return request;
            }
        }
    }

    protected override void Write(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        if (content is PreFramedMessages framed)
        {
            Writer!.Write(framed.Bytes);
            return;
        }

        base.Write(content, cancellationToken);
    }

    protected override ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        _output.Add(Writer!.UnflushedBytes);
        return base.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Answers a message that never reaches the dispatcher. Written here, not as a library error
    /// message: the answer carries the id exactly as the client wrote it, which may be a number the
    /// library's RequestId cannot hold.
    /// </summary>
    private async ValueTask AnswerAsync(string? rawId, RpcException error, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0"u8);
            w.WritePropertyName("id"u8);
            if (rawId is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteRawValue(rawId, skipInputValidation: true);
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
        }

        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.WrittenCount}\r\n\r\n");
        var frame = new byte[header.Length + body.WrittenCount];
        header.CopyTo(frame, 0);
        body.WrittenSpan.CopyTo(frame.AsSpan(header.Length));
        await WriteAsync(new PreFramedMessages(frame, frame.Length), cancellationToken).ConfigureAwait(false);
    }
}
