namespace AgentSidecar.Terminal.Pty;

/// <summary>Facts about processes from /proc (Linux), and signalling whole sessions.</summary>
public static class ProcessInfo
{
    /// <summary>Fields of /proc/PID/stat after "pid (comm) ": state is index 0, so field N is N-3.</summary>
    private const int SessionIndex = 3;
    private const int StartTimeIndex = 19;

    /// <summary>The process start time in clock ticks since boot, or null if it does not exist.</summary>
    public static long? TryGetStartTime(int pid) =>
        TryReadStat(pid) is { } f && long.TryParse(f[StartTimeIndex], out var t) ? t : null;

    /// <summary>Whether the process <paramref name="pid"/> that started at <paramref name="startTime"/> is still alive.</summary>
    public static bool IsAlive(int pid, long startTime) => TryGetStartTime(pid) == startTime && !IsZombie(pid);

    public static int CurrentPid => Environment.ProcessId;

    public static long CurrentStartTime { get; } = TryGetStartTime(Environment.ProcessId) ?? 0;

    private static readonly Lock ScanLock = new();
    private static TaskCompletionSource<ILookup<int, int>>? _nextScan;
    private static Task _lastScan = Task.CompletedTask;

    /// <summary>Pids of every live process whose session id is <paramref name="sid"/>.</summary>
    public static List<int> SessionMembers(int sid) => [.. LiveProcesses().Where(p => p.Sid == sid).Select(p => p.Pid)];

    /// <summary>
    /// As <see cref="SignalSession"/>, with the members found by a /proc scan shared with concurrent
    /// callers. Problem: a scan reads the stat of every process (~1,700 with 1,500 shells), and
    /// ending 1,000 sessions made 2,000 scans: 30 s. Solution: callers that come while a scan runs
    /// share the next one, which starts after they called, so it sees every process a scan of their
    /// own would have seen.
    /// </summary>
    public static async Task SignalSessionAsync(int leader, int signal, bool includeGroup = true)
    {
        if (includeGroup)
        {
            _ = Libc.Kill(-leader, signal);
        }

        foreach (var pid in (await NextScanAsync().ConfigureAwait(false))[leader])
        {
            _ = Libc.Kill(pid, signal);
        }
    }

    /// <summary>
    /// Signals what is left in the session of a leader that has been reaped (a backgrounded job).
    /// Problem: once reaped, its pid can be given to a new process, and a new terminal's session
    /// then has the same id: its shell and everything in it were killed as "left over". Solution:
    /// the kernel keeps a pid number in use while any process has it as its session id, so if a
    /// process holds the leader's pid again, nothing of the old session is left: nothing is signalled.
    /// </summary>
    public static async Task SignalLeftoversAsync(int leader, int signal)
    {
        var scan = await NextScanAsync().ConfigureAwait(false);
        if (TryGetStartTime(leader) is not null)
        {
            return;
        }

        foreach (var pid in scan[leader])
        {
            _ = Libc.Kill(pid, signal);
        }
    }

    /// <summary>Signals the process group <paramref name="leader"/> leads and every member of its session.</summary>
    public static void SignalSession(int leader, int signal, bool includeGroup = true)
    {
        if (includeGroup)
        {
            _ = Libc.Kill(-leader, signal);
        }

        foreach (var pid in SessionMembers(leader))
        {
            _ = Libc.Kill(pid, signal);
        }
    }

    /// <summary>
    /// Signals what is left of a terminal session whose leader was <paramref name="leader"/>, started
    /// at <paramref name="leaderStart"/>; returns how many processes were signalled. Problem: after a
    /// sidecar is killed, its workers' pids may have been reused. Solution: the group is signalled
    /// only while the leader is the same process; members are looked up by session id only while the
    /// leader is alive and the same, or its pid is free (then nobody new can hold that session id).
    /// </summary>
    public static int SignalOrphanedSession(int leader, long leaderStart, int signal)
    {
        var start = TryGetStartTime(leader);
        if (start is not null && start != leaderStart)
        {
            return 0;
        }

        var members = SessionMembers(leader);
        foreach (var pid in members)
        {
            _ = Libc.Kill(pid, signal);
        }

        return members.Count;
    }

    public const int SigHup = Libc.SIGHUP;

    public const int SigKill = Libc.SIGKILL;

    /// <summary>Session id to member pids, from a scan that starts after this call (one at a time).</summary>
    private static Task<ILookup<int, int>> NextScanAsync()
    {
        lock (ScanLock)
        {
            if (_nextScan is { } waiting)
            {
                return waiting.Task;
            }

            var scan = new TaskCompletionSource<ILookup<int, int>>(TaskCreationOptions.RunContinuationsAsynchronously);
            var previous = _lastScan;
            _nextScan = scan;
            _lastScan = scan.Task;
            _ = Task.Run(async () =>
            {
                await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                lock (ScanLock)
                {
                    // From here on, new callers need a later scan: this one may miss what they saw start.
                    _nextScan = null;
                }

                try
                {
                    scan.SetResult(LiveProcesses().ToLookup(p => p.Sid, p => p.Pid));
                }
                catch (Exception ex)
                {
                    scan.SetException(ex);
                }
            });
            return scan.Task;
        }
    }

    /// <summary>Every process in /proc that is not a zombie, with its session id.</summary>
    private static IEnumerable<(int Pid, int Sid)> LiveProcesses()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir.AsSpan()), out var pid)
                && TryReadStat(pid) is { } f && int.TryParse(f[SessionIndex], out var sid) && f[0] != "Z")
            {
                yield return (pid, sid);
            }
        }
    }

    private static bool IsZombie(int pid) => TryReadStat(pid) is { } f && f[0] == "Z";

    private static string[]? TryReadStat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var close = text.LastIndexOf(')');
            return close < 0 ? null : text[(close + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
