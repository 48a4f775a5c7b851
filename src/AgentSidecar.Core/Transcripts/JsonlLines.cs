using System.Buffers;

namespace AgentSidecar.Core.Transcripts;

/// <summary>One complete line: its bytes without the '\n', where it starts, and the offset just after its '\n'.</summary>
internal readonly record struct JsonlLine(ReadOnlyMemory<byte> Bytes, long Start, long End, bool TooLong);

/// <summary>Return false to stop scanning after this line.</summary>
internal delegate bool JsonlLineHandler(JsonlLine line);

/// <summary>Splits a stream into '\n'-terminated lines, in chunks, never holding more than one line.</summary>
internal static class JsonlLines
{
    /// <summary>Longer lines are reported as TooLong (no bytes) rather than buffered.</summary>
    internal const int MaxLineBytes = 64 * 1024 * 1024;
    private const int ChunkBytes = 64 * 1024;

    internal static FileStream? TryOpen(string path)
    {
        try
        {
            // The agent keeps writing (and may rename or delete) while we read.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The whole file, read while its writer may still be at work; null when it cannot be read now.</summary>
    internal static byte[]? TryReadAll(string path)
    {
        try
        {
            using var stream = TryOpen(path);
            if (stream is null)
            {
                return null;
            }
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            return memory.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Hands every complete line that starts at or after <paramref name="from"/> and ends before
    /// <paramref name="limit"/> to <paramref name="onLine"/>. A trailing line without its '\n' is left
    /// alone: the writer may still be writing it. Returns the offset just after the last line handled.
    /// </summary>
    internal static long Scan(Stream stream, long from, long limit, JsonlLineHandler onLine)
    {
        stream.Seek(from, SeekOrigin.Begin);
        byte[] buf = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        int len = 0;               // bytes held in buf
        long bufStart = from;      // file offset of buf[0]
        long consumed = from;
        long discardedFrom = -1;   // start of an over-long line being skipped
        try
        {
            while (true)
            {
                long room = limit - (bufStart + len);
                if (room <= 0)
                {
                    break;
                }
                if (len == buf.Length)
                {
                    if (buf.Length >= MaxLineBytes)
                    {
                        // Keep only where the line began; its bytes are dropped.
                        if (discardedFrom < 0)
                        {
                            discardedFrom = bufStart;
                        }
                        bufStart += len;
                        len = 0;
                    }
                    else
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buf.Length * 2, MaxLineBytes));
                        Buffer.BlockCopy(buf, 0, bigger, 0, len);
                        ArrayPool<byte>.Shared.Return(buf);
                        buf = bigger;
                    }
                }
                int n = stream.Read(buf, len, (int)Math.Min(buf.Length - len, room));
                if (n == 0)
                {
                    break;
                }
                int scan = len;
                len += n;
                int lineStart = 0;
                while (scan < len)
                {
                    int nl = buf.AsSpan(scan, len - scan).IndexOf((byte)'\n');
                    if (nl < 0)
                    {
                        break;
                    }
                    nl += scan;
                    var line = discardedFrom >= 0
                        ? new JsonlLine(ReadOnlyMemory<byte>.Empty, discardedFrom, bufStart + nl + 1, true)
                        : new JsonlLine(buf.AsMemory(lineStart, nl - lineStart), bufStart + lineStart, bufStart + nl + 1, false);
                    discardedFrom = -1;
                    lineStart = nl + 1;
                    scan = lineStart;
                    consumed = bufStart + lineStart;
                    if (!onLine(line))
                    {
                        return consumed;
                    }
                }
                if (lineStart > 0)
                {
                    Buffer.BlockCopy(buf, lineStart, buf, 0, len - lineStart);
                    len -= lineStart;
                    bufStart += lineStart;
                }
            }
            return consumed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    /// <summary>True when the byte before <paramref name="offset"/> is '\n' (or offset is 0).</summary>
    internal static bool IsLineStart(Stream stream, long offset)
    {
        if (offset == 0)
        {
            return true;
        }
        stream.Seek(offset - 1, SeekOrigin.Begin);
        return stream.ReadByte() == '\n';
    }

    /// <summary>The offset just after the first '\n' at or after <paramref name="offset"/>, or -1.</summary>
    internal static long NextLineStart(Stream stream, long offset)
    {
        long end = Scan(stream, offset, long.MaxValue, _ => false);
        return end > offset ? end : -1;
    }
}
