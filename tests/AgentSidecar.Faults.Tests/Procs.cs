using System.Globalization;

namespace AgentSidecar.Faults.Tests;

/// <summary>What /proc says about a process: memory, descriptors, children, sockets.</summary>
internal static class Procs
{
    public static long RssKb(int pid) => StatusKb(pid, "VmRSS:");

    public static long StatusKb(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>The targets of every open descriptor (e.g. "/dev/ptmx", "socket:[123]", "pipe:[9]").</summary>
    public static List<string> FdTargets(int pid)
    {
        var result = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                result.Add(new FileInfo(fd).LinkTarget ?? "?");
            }
            catch (IOException)
            {
                // Closed while we looked.
            }
        }

        return result;
    }

    /// <summary>Fields after "pid (comm) ": [0] state, [1] ppid, [2] pgrp, [3] session, ..., [19] start time.</summary>
    public static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>User plus system CPU time of <paramref name="pid"/>, in clock ticks (utime and stime of /proc/PID/stat).</summary>
    public static long CpuTicks(int pid) =>
        Stat(pid) is { } f ? long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture) : 0;

    public static IEnumerable<int> AllPids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var p))
            {
                yield return p;
            }
        }
    }

    /// <summary>Direct children of <paramref name="pid"/> with their state letter.</summary>
    public static List<(int Pid, string State)> Children(int pid) =>
        AllPids().Select(p => (p, Stat(p))).Where(x => x.Item2 is { } f && f[1] == pid.ToString(CultureInfo.InvariantCulture))
            .Select(x => (x.p, x.Item2![0])).ToList();

    /// <summary>The command line of <paramref name="pid"/>, arguments joined by spaces ("" if it is gone).</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public static List<int> Descendants(int pid)
    {
        var result = new List<int>();
        foreach (var (child, _) in Children(pid))
        {
            result.Add(child);
            result.AddRange(Descendants(child));
        }

        return result;
    }

    /// <summary>Live (not zombie) processes whose session id is <paramref name="sid"/>.</summary>
    public static List<int> SessionMembers(int sid) =>
        AllPids().Where(p => Stat(p) is { } f && f[3] == sid.ToString(CultureInfo.InvariantCulture) && f[0] != "Z").ToList();

    public static bool IsAlive(int pid) => Stat(pid) is { } f && f[0] != "Z";

    /// <summary>Socket inodes of every TCP socket in the system (IPv4 and IPv6), listening or not.</summary>
    public static HashSet<string> TcpInodes()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length > 9)
                {
                    result.Add(cols[9]);
                }
            }
        }

        return result;
    }

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }
}
