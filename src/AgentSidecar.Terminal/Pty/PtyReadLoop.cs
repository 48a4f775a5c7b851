using System.Runtime.CompilerServices;

namespace AgentSidecar.Terminal.Pty;

/// <summary>
/// Reads the output of every PTY on a few shared threads, each waiting in epoll_wait(2) on the
/// masters given to it (and, for a child whose output ended before it exited, on a pidfd).
/// </summary>
/// <remarks>
/// Problem: one reader thread per PTY made 1,500 live sessions 1,519 threads (issue 16). Solution:
/// a fixed number of loops (one per core, at most <see cref="MaxLoops"/>), PTYs dealt to them in
/// turn. Level-triggered: a ready master is read until EAGAIN or <see cref="PtyProcess.CoalesceBytes"/>,
/// and if more is waiting epoll reports it again on the next round, after the other ready PTYs had
/// theirs, so a flood in one PTY does not hold the others back. Listeners run on the loop thread
/// and must return quickly (the sidecar's listener copies the bytes into the store writer's queue).
/// </remarks>
internal sealed unsafe class PtyReadLoop
{
    private const int MaxLoops = 4;

    /// <summary>Events taken per epoll_wait: more than enough for a round; the rest come next round.</summary>
    private const int MaxEvents = 256;

    /// <summary>Stack of a loop thread: it only calls read(2) and the listeners.</summary>
    private const int StackBytes = 256 * 1024;

    private static readonly Lazy<PtyReadLoop[]> Loops = new(() =>
        [.. Enumerable.Range(0, Math.Clamp(Environment.ProcessorCount, 1, MaxLoops)).Select(i => new PtyReadLoop(i))]);

    private static int _nextLoop = -1;

    private readonly int _epoll;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Watch> _watches = [];
    private ulong _nextToken;

    private PtyReadLoop(int index)
    {
        _epoll = Libc.EpollCreate1(Libc.EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            var errno = Libc.Errno;
            throw new PtyStartException($"epoll_create1 failed: {Libc.Describe(errno)}", errno);
        }

        var thread = new Thread(Run, StackBytes) { IsBackground = true, Name = $"pty-loop-{index}" };
        thread.Start();
    }

    /// <summary>How many loops share the PTYs (tests hold every loop busy with one PTY each).</summary>
    internal static int Count => Loops.Value.Length;

    /// <summary>The loop the next PTY goes to (in turn, so PTYs spread evenly).</summary>
    public static PtyReadLoop Next()
    {
        var loops = Loops.Value;
        return loops[(uint)Interlocked.Increment(ref _nextLoop) % (uint)loops.Length];
    }

    /// <summary>Starts reading <paramref name="process"/>'s master; its output and exit come from this loop's thread.</summary>
    public void AddOutput(PtyProcess process, int masterFd) => Add(new Watch(process, masterFd, IsExit: false));

    /// <summary>
    /// Called on this loop's thread when <paramref name="process"/>'s output ended before the child
    /// could be reaped (it closed the terminal but runs on, or is still exiting): waits for its exit
    /// on a pidfd. Returns false when no pidfd can be had (kernel before 5.3).
    /// </summary>
    public bool TryAddExit(PtyProcess process)
    {
        var pidfd = Libc.PidfdOpen(process.Pid, 0);
        if (pidfd < 0)
        {
            return false;
        }

        Add(new Watch(process, pidfd, IsExit: true));
        return true;
    }

    private void Add(Watch watch)
    {
        ulong token;
        lock (_lock)
        {
            token = _nextToken++;
            _watches.Add(token, watch);
        }

        var ev = stackalloc byte[Libc.EpollEventSize];
        WriteEvent(ev, Libc.EPOLLIN, token);
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, watch.Fd, ev) != 0)
        {
            var errno = Libc.Errno;
            lock (_lock)
            {
                _watches.Remove(token);
            }

            throw new PtyStartException($"epoll_ctl(ADD) failed: {Libc.Describe(errno)}", errno);
        }
    }

    /// <summary>Stops watching (before the fd is closed, so a reused fd number is never watched by mistake).</summary>
    private void Remove(ulong token, Watch watch)
    {
        _ = Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_DEL, watch.Fd, null);
        lock (_lock)
        {
            _watches.Remove(token);
        }
    }

    private void Run()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(PtyProcess.ReadBufferBytes, pinned: true);
        var events = GC.AllocateUninitializedArray<byte>(MaxEvents * Libc.EpollEventSize, pinned: true);
        fixed (byte* read = buffer)
        fixed (byte* ready = events)
        {
            while (true)
            {
                var count = Libc.EpollWait(_epoll, ready, MaxEvents, -1);
                for (var i = 0; i < count; i++)
                {
                    var token = Unsafe.ReadUnaligned<ulong>(ready + (i * Libc.EpollEventSize) + Libc.EpollDataOffset);
                    Watch? watch;
                    lock (_lock)
                    {
                        _watches.TryGetValue(token, out watch);
                    }

                    if (watch is not null)
                    {
                        Handle(token, watch, read);
                    }
                }
            }
        }
    }

    private void Handle(ulong token, Watch watch, byte* buffer)
    {
        try
        {
            if (watch.IsExit)
            {
                if (watch.Process.TryFinish())
                {
                    Remove(token, watch);
                    _ = Libc.Close(watch.Fd);
                }

                return;
            }

            if (!watch.Process.ReadAvailable(buffer))
            {
                return;
            }

            // The output has ended: the master is closed only once the child is reaped, after this.
            Remove(token, watch);
            if (!watch.Process.TryFinish() && !TryAddExit(watch.Process))
            {
                // No pidfd (an old kernel): wait on a pool thread, the rare case of a child that
                // outlives its terminal.
                _ = Task.Run(watch.Process.FinishBlocking);
            }
        }
        catch (Exception ex)
        {
            // One PTY's failure must not stop the loop that reads all the others.
            watch.Process.ReportListenerFailure(ex);
        }
    }

    private static void WriteEvent(byte* ev, uint events, ulong token)
    {
        Unsafe.WriteUnaligned(ev, events);
        Unsafe.WriteUnaligned(ev + Libc.EpollDataOffset, token);
    }

    private sealed record Watch(PtyProcess Process, int Fd, bool IsExit);
}
