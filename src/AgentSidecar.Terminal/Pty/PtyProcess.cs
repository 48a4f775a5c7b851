namespace AgentSidecar.Terminal.Pty;

/// <summary>
/// A child process in its own pseudo-terminal (posix_openpt + posix_spawnp with SETSID, see
/// docs/architecture.md). A loop shared with other PTYs (<see cref="PtyReadLoop"/>) delivers every
/// output byte before the exit; the master is non-blocking, so input is written at once and what a child that does not
/// read has no room for waits in a queue, never blocking the caller or the reader; stopping signals
/// the whole process group and session.
/// </summary>
public sealed class PtyProcess : IDisposable
{
    /// <summary>Read size: big enough that a flood costs few syscalls (pty.md measured 16–64 KB).</summary>
    internal const int ReadBufferBytes = 64 * 1024;

    /// <summary>
    /// Problem: one event per read(2) makes tiny rows under load. Solution: after a read, keep
    /// reading what is already there (until EAGAIN) up to this many bytes, then deliver. It never
    /// waits, so a lone keystroke echo goes out at once; past it, the loop serves other PTYs first.
    /// </summary>
    internal const int CoalesceBytes = 48 * 1024;

    private readonly PtyHandle _master;
    private readonly IPtyListener _listener;
    /// <summary>Guards the input queue and the writes to the master.</summary>
    private readonly Lock _inputLock = new();
    private readonly Queue<ReadOnlyMemory<byte>> _pendingInput = new();
    private int _headOffset;
    private long _pendingBytes;
    private bool _draining;
    private bool _inputClosed;
    private readonly TaskCompletionSource<PtyExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _cols;
    private int _rows;

    private PtyProcess(PtyHandle master, int pid, IPtyListener listener, int cols, int rows)
    {
        _master = master;
        _listener = listener;
        Pid = pid;
        StartTime = ProcessInfo.TryGetStartTime(pid) ?? 0;
        _cols = cols;
        _rows = rows;
    }

    public int Pid { get; }

    /// <summary>The process start time (clock ticks since boot): with the pid, it names this process only.</summary>
    public long StartTime { get; }

    public int Cols => _cols;

    public int Rows => _rows;

    /// <summary>Completes after the last output byte has been delivered and the child was reaped.</summary>
    public Task<PtyExit> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    public unsafe static PtyProcess Start(PtyStartInfo info, IPtyListener listener)
    {
        var fd = Libc.PosixOpenpt(Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            var e = Libc.Errno;
            throw new PtyStartException($"posix_openpt failed: {Libc.Describe(e)}", e);
        }

        var master = new PtyHandle(fd);
        try
        {
            PtySpawn.Check(Libc.Grantpt(fd), "grantpt");
            PtySpawn.Check(Libc.Unlockpt(fd), "unlockpt");
            var name = stackalloc byte[256];
            if (Libc.PtsnameR(fd, name, 256) != 0)
            {
                throw new PtyStartException("ptsname_r failed", Libc.Errno);
            }

            PtySpawn.SetWindowSize(fd, info.Cols, info.Rows);
            PtySpawn.EnableUtf8(fd);

            // Problem: with a blocking master, input went through a writer task that sat in write(2)
            // on a pool thread for as long as the child did not read (a thread per stuck worker),
            // and every keystroke crossed one more thread. Solution: the master is non-blocking;
            // Write() writes at once on the caller's thread and queues only what the child has no
            // room for, which a drain task writes as room appears without holding a thread; the
            // reader waits in poll(2). The child's side (the slave it opens) stays blocking.
            PtySpawn.Check(Libc.Fcntl(fd, Libc.F_SETFL, Libc.Fcntl(fd, Libc.F_GETFL, 0) | Libc.O_NONBLOCK), "fcntl(O_NONBLOCK)");
            var pid = PtySpawn.Spawn(info, name);
            var process = new PtyProcess(master, pid, listener, info.Cols, info.Rows);
            try
            {
                PtyReadLoop.Next().AddOutput(process, fd);
            }
            catch
            {
                // Nobody will read it: end the child now rather than leave it running unseen.
                _ = Libc.Kill(pid, Libc.SIGKILL);
                _ = process.Reap();
                throw;
            }

            return process;
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    /// <summary>Input a client may leave waiting for a child that does not read (worker/input); more is refused.</summary>
    public const int MaxPendingInputBytes = 8 * 1024 * 1024;

    /// <summary>Bytes written to the PTY's input that the child has not taken yet.</summary>
    public long PendingInputBytes
    {
        get
        {
            lock (_inputLock)
            {
                return _pendingBytes - _headOffset;
            }
        }
    }

    /// <summary>
    /// Sends bytes to the child, in order. Never blocks: what the child has no room for yet is
    /// queued and written as room appears; dropped once the child has exited. Returns false, and
    /// takes none of <paramref name="data"/>, when more than <paramref name="maxPending"/> bytes
    /// would then wait unread (clients' input passes <see cref="MaxPendingInputBytes"/>: a stuck
    /// program must not grow the sidecar's memory; the sidecar's own few keys pass no limit).
    /// </summary>
    public bool Write(ReadOnlyMemory<byte> data, long maxPending = long.MaxValue)
    {
        if (data.IsEmpty)
        {
            return true;
        }

        lock (_inputLock)
        {
            if (_inputClosed)
            {
                return true;
            }

            if (_draining && _pendingBytes - _headOffset + data.Length > maxPending)
            {
                return false;
            }

            if (!_draining)
            {
                var written = TryWrite(data.Span);
                if (written < 0)
                {
                    CloseInput();
                    return true;
                }

                if (written == data.Length)
                {
                    return true;
                }

                data = data[written..];
                _draining = true;
                _ = Task.Run(DrainInputAsync);
            }

            _pendingInput.Enqueue(data);
            _pendingBytes += data.Length;
            return true;
        }
    }

    /// <summary>Sets the window size; the kernel sends SIGWINCH to the foreground process group.</summary>
    public void Resize(int cols, int rows)
    {
        var ok = false;
        try
        {
            _master.DangerousAddRef(ref ok);
            PtySpawn.SetWindowSize(_master.Fd, cols, rows);
            _cols = cols;
            _rows = rows;
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (ok)
            {
                _master.DangerousRelease();
            }
        }
    }

    /// <summary>Sends a signal to the child's process group and to every process of its session.</summary>
    public void Signal(int signal)
    {
        if (HasExited)
        {
            return;
        }

        ProcessInfo.SignalSession(Pid, signal);
    }

    /// <summary>SIGHUP to the group, then SIGKILL after <paramref name="grace"/>; completes at exit.</summary>
    public async Task<PtyExit> StopAsync(TimeSpan grace)
    {
        // Through the shared /proc scan: many sessions ending at once (reset, shutdown) share scans.
        if (!HasExited)
        {
            await ProcessInfo.SignalSessionAsync(Pid, Libc.SIGHUP).ConfigureAwait(false);
            if (await Task.WhenAny(Exited, Task.Delay(grace)).ConfigureAwait(false) != Exited)
            {
                await ProcessInfo.SignalSessionAsync(Pid, Libc.SIGKILL).ConfigureAwait(false);
            }
        }

        var exit = await Exited.ConfigureAwait(false);

        // The leader is gone; anything left in its session (a backgrounded job) goes too.
        await ProcessInfo.SignalLeftoversAsync(Pid, Libc.SIGKILL).ConfigureAwait(false);
        return exit;
    }

    public void Dispose()
    {
        if (!HasExited)
        {
            Signal(Libc.SIGKILL);
        }

        lock (_inputLock)
        {
            CloseInput();
        }
    }

    /// <summary>
    /// Called by the loop when the master is readable: reads what is waiting (until EAGAIN, up to
    /// <see cref="CoalesceBytes"/>) and delivers it. Returns true when the output has ended (EIO):
    /// every byte has then been delivered.
    /// </summary>
    internal unsafe bool ReadAvailable(byte* buffer)
    {
        var fd = _master.Fd;
        var filled = ReadSome(fd, buffer, ReadBufferBytes);
        if (filled == 0)
        {
            return false;
        }

        if (filled < 0)
        {
            return true;
        }

        var eof = false;
        while (filled < CoalesceBytes)
        {
            var n = ReadSome(fd, buffer + filled, ReadBufferBytes - filled);
            if (n < 0)
            {
                eof = true;
            }

            if (n <= 0)
            {
                break;
            }

            filled += n;
        }

        Deliver(new ReadOnlySpan<byte>(buffer, filled));
        return eof;
    }

    /// <summary>
    /// After the output ended: reaps the child if it has exited and reports the exit. Returns false
    /// when it is still running (the loop then waits for it on a pidfd and calls again).
    /// </summary>
    internal unsafe bool TryFinish()
    {
        int status;
        int r;
        do
        {
            r = Libc.Waitpid(Pid, &status, Libc.WNOHANG);
        }
        while (r < 0 && Libc.Errno == Libc.EINTR);

        if (r == 0)
        {
            return false;
        }

        Finish(r == Pid ? PtyExit.FromWaitStatus(status) : new PtyExit(null, null));
        return true;
    }

    /// <summary>After the output ended, without a pidfd: waits for the child (blocking), then reports its exit.</summary>
    internal void FinishBlocking() => Finish(Reap());

    private void Finish(PtyExit exit)
    {
        lock (_inputLock)
        {
            CloseInput();
            _master.Dispose();
        }

        try
        {
            _listener.OnExit(exit);
        }
        catch (Exception ex)
        {
            // An exception here would reach the loop that reads other PTYs: report it and go on.
            ReportListenerFailure(ex);
        }
        finally
        {
            _exited.TrySetResult(exit);
        }
    }

    internal void ReportListenerFailure(Exception ex)
    {
        try
        {
            _listener.OnListenerFailed(ex);
        }
        catch (Exception)
        {
            // Reporting failed too: nothing else can be told without risking the loop.
        }
    }

    private void Deliver(ReadOnlySpan<byte> data)
    {
        try
        {
            _listener.OnOutput(data);
        }
        catch (Exception ex)
        {
            ReportListenerFailure(ex);
        }
    }

    /// <summary>Reads what is there: the byte count, 0 when nothing is waiting, -1 when the output has ended.</summary>
    private static unsafe int ReadSome(int fd, byte* p, int count)
    {
        while (true)
        {
            var n = Libc.Read(fd, p, (nuint)count);
            if (n > 0)
            {
                return (int)n;
            }

            if (n == 0)
            {
                return -1;
            }

            var errno = Libc.Errno;
            if (errno == Libc.EAGAIN)
            {
                return 0;
            }

            if (errno != Libc.EINTR)
            {
                return -1; // EIO: every slave fd is closed, the output has ended.
            }
        }
    }

    /// <summary>Waits for the child to exit and reaps it (waitpid on its own pid, never -1: see pty.md).</summary>
    private unsafe PtyExit Reap()
    {
        int status;
        while (true)
        {
            var r = Libc.Waitpid(Pid, &status, 0);
            if (r == Pid)
            {
                return PtyExit.FromWaitStatus(status);
            }

            if (r < 0 && Libc.Errno != Libc.EINTR)
            {
                return new PtyExit(null, null);
            }
        }
    }

    /// <summary>
    /// Writes what the master takes now (non-blocking): the byte count, or -1 when the child is gone.
    /// Called under <see cref="_inputLock"/>.
    /// </summary>
    private unsafe int TryWrite(ReadOnlySpan<byte> data)
    {
        var ok = false;
        try
        {
            _master.DangerousAddRef(ref ok);
            fixed (byte* p = data)
            {
                var offset = 0;
                while (offset < data.Length)
                {
                    var n = Libc.Write(_master.Fd, p + offset, (nuint)(data.Length - offset));
                    if (n >= 0)
                    {
                        offset += (int)n;
                        continue;
                    }

                    var errno = Libc.Errno;
                    if (errno == Libc.EAGAIN)
                    {
                        break;
                    }

                    if (errno != Libc.EINTR)
                    {
                        return -1;
                    }
                }

                return offset;
            }
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (ok)
            {
                _master.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Writes the queued input as the child makes room: waits in poll(2) a little at a time on a
    /// pool thread, and between polls without holding a thread (a child that never reads its input
    /// costs a timer, not a thread).
    /// </summary>
    private async Task DrainInputAsync()
    {
        var pause = 1;
        while (true)
        {
            WaitWritable(TimeSpan.FromMilliseconds(5));
            lock (_inputLock)
            {
                while (!_inputClosed && _pendingInput.TryPeek(out var head))
                {
                    var chunk = head[_headOffset..];
                    var written = TryWrite(chunk.Span);
                    if (written < 0)
                    {
                        CloseInput();
                        break;
                    }

                    if (written < chunk.Length)
                    {
                        _headOffset += written;
                        break;
                    }

                    _pendingInput.Dequeue();
                    _pendingBytes -= head.Length;
                    _headOffset = 0;
                    pause = 1;
                }

                if (_inputClosed || _pendingInput.Count == 0)
                {
                    _draining = false;
                    return;
                }
            }

            await Task.Delay(pause).ConfigureAwait(false);
            pause = Math.Min(pause * 2, 50);
        }
    }

    private unsafe void WaitWritable(TimeSpan timeout)
    {
        var ok = false;
        try
        {
            _master.DangerousAddRef(ref ok);
            var pfd = new Libc.PollFd { Fd = _master.Fd, Events = Libc.POLLOUT };
            _ = Libc.Poll(&pfd, 1, (int)timeout.TotalMilliseconds);
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (ok)
            {
                _master.DangerousRelease();
            }
        }
    }

    /// <summary>Drops queued input and refuses more (the child has exited). Called under <see cref="_inputLock"/>.</summary>
    private void CloseInput()
    {
        _inputClosed = true;
        _pendingInput.Clear();
        _pendingBytes = 0;
        _headOffset = 0;
    }
}
