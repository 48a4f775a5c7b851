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

    /// <summary>Pids of every live process whose session id is <paramref name="sid"/>.</summary>
    public static List<int> SessionMembers(int sid)
    {
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (!int.TryParse(name, out var pid))
            {
                continue;
            }

            if (TryReadStat(pid) is { } f && int.TryParse(f[SessionIndex], out var s) && s == sid && f[0] != "Z")
            {
                result.Add(pid);
            }
        }

        return result;
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
