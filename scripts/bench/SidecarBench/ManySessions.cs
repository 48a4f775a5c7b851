using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Bench;

/// <summary>
/// Many live shell sessions in one sidecar (issue 16): its threads and memory with N sessions, and
/// how long <c>session/reset</c> takes to end M of them, then <c>session/cleanup</c> the other N - M.
///   SidecarBench many N M [sidecar...]   (each sidecar in turn; none given: $AGENT_SIDECAR_BIN or the built one)
/// </summary>
internal static class ManySessions
{
    /// <summary>session/start requests in flight at once (a client opening many terminals).</summary>
    private const int StartsInFlight = 16;

    /// <summary>How long threads and RSS are sampled once every session is live (bash settles in it).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public static async Task<JsonObject> RunAsync(string dir, int sessions, int reset, IReadOnlyList<string> sidecars)
    {
        var results = new JsonObject();
        var index = 0;
        foreach (var sidecar in sidecars.Count > 0 ? sidecars : [SidecarProcess.Executable])
        {
            Environment.SetEnvironmentVariable("AGENT_SIDECAR_BIN", sidecar);
            // Keyed by run, so a build given twice (before, after, before ...) keeps every run.
            results[$"{index}: {sidecar}"] = await OneAsync(Path.Combine(dir, $"many-{index}"), sessions, reset);
            index++;
        }

        return results;
    }

    private static async Task<JsonObject> OneAsync(string dir, int sessions, int reset)
    {
        var resetWs = Directory.CreateDirectory(Path.Combine(dir, "reset")).FullName;
        var keptWs = Directory.CreateDirectory(Path.Combine(dir, "kept")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(Path.Combine(dir, "data"));
        var c = sidecar.Client;
        var idle = Sample(sidecar.Pid);
        var started = Stopwatch.StartNew();
        var pending = new List<Task>();
        for (var i = 0; i < sessions; i++)
        {
            var ws = i < reset ? resetWs : keptWs;
            pending.Add(c.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "shell", ["reuse"] = false }, TimeSpan.FromMinutes(2)));
            if (pending.Count == StartsInFlight)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
        var startSeconds = started.Elapsed.TotalSeconds;

        // The figure is the level once the shells have started; the peak shows what starting cost.
        var peak = (Threads: 0, RssMb: 0.0);
        var settled = Stopwatch.StartNew();
        var now = Sample(sidecar.Pid);
        while (settled.Elapsed < Settle)
        {
            now = Sample(sidecar.Pid);
            peak = (Math.Max(peak.Threads, now.Threads), Math.Max(peak.RssMb, now.RssMb));
            await Task.Delay(250);
        }

        var load = File.ReadAllText("/proc/loadavg").Trim();
        var resetTime = Stopwatch.StartNew();
        var ended = await c.RequestAsync("session/reset", new JsonObject { ["workspace"] = resetWs }, TimeSpan.FromMinutes(10));
        var resetSeconds = resetTime.Elapsed.TotalSeconds;
        var after = Sample(sidecar.Pid);

        // The rest, all idle for 0 s: suspended by one cleanup.
        var cleanupTime = Stopwatch.StartNew();
        var cleaned = await c.RequestAsync("session/cleanup", new JsonObject { ["idleSeconds"] = 0 }, TimeSpan.FromMinutes(10));
        var cleanupSeconds = cleanupTime.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["sessions"] = sessions,
            ["idle"] = new JsonObject { ["threads"] = idle.Threads, ["rssMb"] = idle.RssMb },
            ["live"] = new JsonObject { ["threads"] = now.Threads, ["rssMb"] = now.RssMb, ["peakThreads"] = peak.Threads, ["peakRssMb"] = peak.RssMb },
            ["startSeconds"] = Math.Round(startSeconds, 1),
            ["loadBeforeReset"] = load,
            ["reset"] = new JsonObject { ["sessions"] = ended.GetProperty("ended").GetArrayLength(), ["seconds"] = Math.Round(resetSeconds, 2), ["threadsAfter"] = after.Threads, ["rssMbAfter"] = after.RssMb },
            ["cleanup"] = new JsonObject { ["sessions"] = cleaned.GetProperty("ended").GetArrayLength(), ["seconds"] = Math.Round(cleanupSeconds, 2) },
        };
    }

    private static (int Threads, double RssMb) Sample(int pid)
    {
        int threads = 0;
        double rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Math.Round(long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0, 1);
            }
        }

        return (threads, rss);
    }
}
