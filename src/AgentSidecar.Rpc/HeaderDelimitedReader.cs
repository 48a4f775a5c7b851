using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;

namespace AgentSidecar.Rpc;

public enum FrameKind
{
    /// <summary>A whole message body is available in <see cref="Frame.Body"/>.</summary>
    Message,

    /// <summary>The body exceeded the limit and was skipped without being buffered.</summary>
    TooLarge,

    /// <summary>The headers were broken: framing is lost and the connection must end.</summary>
    FramingError,

    /// <summary>The input ended between messages.</summary>
    EndOfStream,
}

public readonly record struct Frame(FrameKind Kind, ReadOnlySequence<byte> Body, long Length, string? Error);

/// <summary>
/// Reads LSP base-protocol frames (<c>Content-Length: N\r\n[Content-Type: …\r\n]\r\n</c> + N bytes).
/// Problem: a message over the limit must not be read into memory. Solution: its body is skipped
/// as it arrives, buffer by buffer, and reported as <see cref="FrameKind.TooLarge"/>.
/// </summary>
public sealed class HeaderDelimitedReader(PipeReader reader, long maxMessageBytes)
{
    /// <summary>A header section longer than this is not a header: framing is lost.</summary>
    public const int MaxHeaderBytes = 8 * 1024;

    private static ReadOnlySpan<byte> HeaderEnd => "\r\n\r\n"u8;

    private bool _bodyPending;

    public long MaxMessageBytes { get; } = maxMessageBytes;

    /// <summary>
    /// Reads the next frame. For <see cref="FrameKind.Message"/> the body stays valid until
    /// <see cref="Consume"/> is called, which must happen before the next read.
    /// </summary>
    public async ValueTask<Frame> ReadAsync(CancellationToken cancellationToken)
    {
        if (_bodyPending)
        {
            throw new InvalidOperationException("Consume() the previous frame first.");
        }

        long length;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var parsed = TryParseHeaders(buffer, out length, out var headerLength, out var error);
            if (parsed == HeaderParse.Error)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return new Frame(FrameKind.FramingError, default, 0, error);
            }

            if (parsed == HeaderParse.Complete)
            {
                reader.AdvanceTo(buffer.GetPosition(headerLength));
                break;
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                return buffer.IsEmpty
                    ? new Frame(FrameKind.EndOfStream, default, 0, null)
                    : new Frame(FrameKind.FramingError, default, 0, "input ended inside a message header");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }

        if (length > MaxMessageBytes)
        {
            return await SkipAsync(length, cancellationToken).ConfigureAwait(false);
        }

        var body = await reader.ReadAtLeastAsync((int)length, cancellationToken).ConfigureAwait(false);
        if (body.Buffer.Length < length)
        {
            reader.AdvanceTo(body.Buffer.End);
            return new Frame(FrameKind.FramingError, default, length, $"input ended after {body.Buffer.Length} of {length} body bytes");
        }

        _bodyPending = true;
        return new Frame(FrameKind.Message, body.Buffer.Slice(0, length), length, null);
    }

    /// <summary>Releases the body of the last <see cref="FrameKind.Message"/> frame.</summary>
    public void Consume(in Frame frame)
    {
        if (_bodyPending)
        {
            _bodyPending = false;
            reader.AdvanceTo(frame.Body.End);
        }
    }

    private async ValueTask<Frame> SkipAsync(long length, CancellationToken cancellationToken)
    {
        var remaining = length;
        while (remaining > 0)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var take = Math.Min(remaining, result.Buffer.Length);
            reader.AdvanceTo(result.Buffer.GetPosition(take));
            remaining -= take;
            if (remaining > 0 && result.IsCompleted)
            {
                return new Frame(FrameKind.FramingError, default, length, "input ended inside an oversized message");
            }
        }

        return new Frame(FrameKind.TooLarge, default, length, null);
    }

    private enum HeaderParse
    {
        Incomplete,
        Complete,
        Error,
    }

    private static HeaderParse TryParseHeaders(ReadOnlySequence<byte> buffer, out long contentLength, out long headerLength, out string? error)
    {
        contentLength = -1;
        headerLength = 0;
        error = null;

        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headers, HeaderEnd, advancePastDelimiter: true))
        {
            if (buffer.Length > MaxHeaderBytes)
            {
                error = $"no end of headers within {MaxHeaderBytes} bytes";
                return HeaderParse.Error;
            }

            return HeaderParse.Incomplete;
        }

        headerLength = reader.Consumed;
        if (headers.Length > MaxHeaderBytes)
        {
            error = $"header section of {headers.Length} bytes exceeds {MaxHeaderBytes}";
            return HeaderParse.Error;
        }

        Span<byte> text = stackalloc byte[(int)headers.Length];
        headers.CopyTo(text);
        foreach (var range in text.Split("\r\n"u8))
        {
            var line = text[range];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                error = $"malformed header line '{System.Text.Encoding.UTF8.GetString(line)}'";
                return HeaderParse.Error;
            }

            var name = line[..colon].Trim((byte)' ');
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (System.Text.Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out long n, out var consumed) || consumed != value.Length || n < 0)
                {
                    error = $"invalid Content-Length '{System.Text.Encoding.UTF8.GetString(value)}'";
                    return HeaderParse.Error;
                }

                contentLength = n;
            }

            // Content-Type (and any other header) is tolerated and ignored: the body is always UTF-8 JSON.
        }

        if (contentLength < 0)
        {
            error = "missing Content-Length header";
            return HeaderParse.Error;
        }

        return HeaderParse.Complete;
    }
}
