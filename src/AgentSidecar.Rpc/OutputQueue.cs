using System.Buffers;
using System.IO.Pipelines;

namespace AgentSidecar.Rpc;

/// <summary>
/// What a connection has sent and the client has not read yet: StreamJsonRpc writes whole messages
/// into an in-memory pipe that never makes it wait, and one pump copies the pipe to the client.
/// Why not StreamJsonRpc's writer straight onto the socket: protocol v1 promises that a client that
/// stops reading slows only its own event streams (they wait at a high-water mark of queued bytes,
/// and detach after the client read nothing for the stall timeout) while answers and other clients
/// go on; that needs the queued bytes and the client's last progress, which only a queue of our own
/// can tell.
/// </summary>
internal sealed class OutputQueue
{
    /// <summary>The most one write to the client carries.</summary>
    private const int WriteBytes = 64 * 1024;

    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly byte[] _scratch = new byte[WriteBytes];
    private readonly Lock _drainLock = new();
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _flushedBytes;
    private long _writtenBytes;
    private long _lastProgressAt = Environment.TickCount64;

    /// <summary>Where StreamJsonRpc writes.</summary>
    public PipeWriter Writer => _pipe.Writer;

    /// <summary>Bytes handed to the queue and not yet written to the client.</summary>
    public long QueuedBytes => Interlocked.Read(ref _flushedBytes) - Interlocked.Read(ref _writtenBytes);

    /// <summary>Bytes written to the client so far; a stall is when this stops moving.</summary>
    public long WrittenBytes => Interlocked.Read(ref _writtenBytes);

    /// <summary>When the client last took bytes (or a burst began after the queue was empty).</summary>
    public long LastProgressAt => Interlocked.Read(ref _lastProgressAt);

    /// <summary>Completes the next time the queue shrinks.</summary>
    public Task Drained
    {
        get
        {
            lock (_drainLock)
            {
                return _drained.Task;
            }
        }
    }

    /// <summary>Counts <paramref name="bytes"/> just written into the pipe (before its flush).</summary>
    public void Add(long bytes)
    {
        if (Interlocked.Add(ref _flushedBytes, bytes) - Interlocked.Read(ref _writtenBytes) == bytes)
        {
            // The queue was empty: a stall is measured from the start of this burst, not from the last one.
            Interlocked.Exchange(ref _lastProgressAt, Environment.TickCount64);
        }
    }

    /// <summary>Copies the queue to <paramref name="output"/> until the queue is completed or the output fails.</summary>
    public async Task PumpAsync(Stream output, CancellationToken cancellationToken)
    {
        var reader = _pipe.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;

                // Problem: the pipe's segments are small (4 KiB), and writing each on its own sent a
                // replay's 336 MB as ~80,000 socket writes, each waking the client; segments of
                // 64 KiB instead made every small answer rent (and drop) a 64 KiB array. Solution:
                // small segments, gathered into writes of up to 64 KiB here.
                var rest = buffer;
                while (!rest.IsEmpty)
                {
                    var chunk = rest.Slice(0, Math.Min(rest.Length, WriteBytes));
                    ReadOnlyMemory<byte> bytes;
                    if (chunk.IsSingleSegment)
                    {
                        bytes = chunk.First;
                    }
                    else
                    {
                        chunk.CopyTo(_scratch);
                        bytes = _scratch.AsMemory(0, (int)chunk.Length);
                    }

                    await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                    Interlocked.Add(ref _writtenBytes, chunk.Length);
                    Interlocked.Exchange(ref _lastProgressAt, Environment.TickCount64);
                    rest = rest.Slice(chunk.End);
                }

                if (!buffer.IsEmpty)
                {
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                SignalDrained();
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            SignalDrained();
        }
    }

    /// <summary>No more messages: the pump ends once what is queued is written.</summary>
    public void Complete() => _pipe.Writer.Complete();

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
