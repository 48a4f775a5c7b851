// Sidecar benchmarks, each beside a baseline measured in the same run; prints one JSON object.
//   SidecarBench PTYBASE PUBLISHED_SIDECAR [quick]
//   PTYBASE: the compiled ptybase.c (raw-PTY reader and echo); PUBLISHED_SIDECAR: a ReadyToRun publish.
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.Bench;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Faults.Tests;

if (args[0] == "seed-events")
{
    // For profiling by hand: SidecarBench seed-events DIR COUNT -> prints the session id.
    Console.WriteLine(await Seeding.EventsAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), 100, "/tmp"));
    return;
}

if (args[0] is "replay" or "resume" or "echo" or "throughput" or "cold" or "many" or "bomb")
{
    // One figure alone, for before/after comparisons of a change ($AGENT_SIDECAR_BIN picks the build):
    //   SidecarBench replay DIR COUNT [RUNS]  (DIR is seeded with COUNT events once, then reused)
    //   SidecarBench resume N
    //   SidecarBench echo N
    //   SidecarBench throughput MB
    //   SidecarBench cold N SIDECAR [SIDECAR...]  (builds alternated start by start, existing data dirs;
    //     with $BENCH_HELLO_WORLD the hello-world app too, and each build's ratio to it)
    //   SidecarBench many N M [SIDECAR...]  (N live shell sessions: threads, RSS; then reset M of them)
    //   SidecarBench bomb N [SIDECAR...]  (echo in one session while another's worker prints a ESC[65535b in a loop)
    await Figures.RunAsync(args);
    return;
}

var ptybase = args[0];
var published = args[1];
var quick = args.Length > 2 && args[2] == "quick";
var built = SidecarProcess.Executable;
var report = new JsonObject
{
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} cores, {File.ReadLines("/proc/meminfo").First().Split(':')[1].Trim()}, Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}",
    ["loadBefore"] = File.ReadAllText("/proc/loadavg").Trim(),
};
var dir = Directory.CreateTempSubdirectory("sidecar-bench-").FullName;
var workspace = Directory.CreateDirectory(Path.Combine(dir, "ws")).FullName;

static double P(List<double> xs, double q) { xs.Sort(); return Math.Round(xs[Math.Min(xs.Count - 1, (int)(xs.Count * q))], 3); }
static JsonNode Run(string exe, params string[] a)
{
    var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true };
    foreach (var x in a) psi.ArgumentList.Add(x);
    using var p = Process.Start(psi)!;
    var o = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    return JsonNode.Parse(o)!;
}

static long CpuMs(int pid)
{
    var st = File.ReadAllText($"/proc/{pid}/stat");
    var f = st[(st.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) * 10;
}

void Section(string name, JsonNode value)
{
    report[name] = value;
    Console.Error.WriteLine($"{name}: {value.ToJsonString()}");
}

try
{
    // 7. Cold start: process start -> initialize result, on an existing data directory (the usual
    // case) and on a new one (schema created). Baselines: start and reap of /bin/true, and of a
    // hello-world .NET console app published the same way ($BENCH_HELLO_WORLD, from run.sh).
    {
        var result = new JsonObject();
        var spawn = new List<double>();
        var hello = new List<double>();
        var helloExe = Environment.GetEnvironmentVariable("BENCH_HELLO_WORLD");
        for (var i = 0; i < 15; i++)
        {
            var sw = Stopwatch.StartNew();
            using (var t = Process.Start("/bin/true")!) { t.WaitForExit(); }
            spawn.Add(sw.Elapsed.TotalMilliseconds);
            if (helloExe is not null)
            {
                sw.Restart();
                using (var t = Process.Start(new ProcessStartInfo(helloExe) { RedirectStandardOutput = true })!) { t.StandardOutput.ReadToEnd(); t.WaitForExit(); }
                hello.Add(sw.Elapsed.TotalMilliseconds);
            }
        }

        foreach (var (name, exe) in new[] { ("published", published), ("built", built) })
        {
            Environment.SetEnvironmentVariable("AGENT_SIDECAR_BIN", exe);
            var existing = Path.Combine(dir, "cold-" + name);
            var warm = new List<double>();
            var fresh = new List<double>();
            for (var i = 0; i < (quick ? 5 : 15); i++)
            {
                var sw = Stopwatch.StartNew();
                await using (var s = await SidecarProcess.StartAsync(existing)) { warm.Add(sw.Elapsed.TotalMilliseconds); }
                sw.Restart();
                await using (var s = await SidecarProcess.StartAsync(Path.Combine(dir, $"cold-{name}-{i}"))) { fresh.Add(sw.Elapsed.TotalMilliseconds); }
            }

            result[name] = new JsonObject { ["existingDataDirP50ms"] = P(warm.Skip(1).ToList(), 0.5), ["newDataDirP50ms"] = P(fresh, 0.5) };
        }

        Environment.SetEnvironmentVariable("AGENT_SIDECAR_BIN", null);
        result["goalMs"] = 150;
        result["baselineSpawnTrueP50ms"] = P(spawn, 0.5);
        if (hello.Count > 0)
        {
            // Goal: the published sidecar's cold start within 2x the hello-world app's.
            var helloP50 = P(hello.Skip(1).ToList(), 0.5);
            result["baselineHelloWorldP50ms"] = helloP50;
            result["publishedToHelloWorld"] = Math.Round(result["published"]!["existingDataDirP50ms"]!.GetValue<double>() / helloP50, 2);
        }
        Section("coldStart", result);
    }

    await using var sidecar = await SidecarProcess.StartAsync(Path.Combine(dir, "main"));
    var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
    using var c = await LeanClient.ConnectAsync(socket);

    // 4. session/start (shell) latency. Baseline: fork+exec of bash -c true from .NET.
    {
        var start = new List<double>();
        var baseline = new List<double>();
        var ids = new List<string>();
        for (var i = 0; i < (quick ? 20 : 200); i++)
        {
            var sw = Stopwatch.StartNew();
            var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
            start.Add(sw.Elapsed.TotalMilliseconds);
            ids.Add(s.GetProperty("id").GetString()!);
            sw.Restart();
            using (var t = Process.Start("/bin/bash", ["-c", "true"])!) { t.WaitForExit(); }
            baseline.Add(sw.Elapsed.TotalMilliseconds);
        }

        foreach (var id in ids)
        {
            await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = id });
        }

        Section("sessionStart", new JsonObject { ["n"] = start.Count, ["p50ms"] = P(start, 0.5), ["p99ms"] = P(start, 0.99), ["goalP50ms"] = 5, ["baselineBashSpawnP50ms"] = P(baseline, 0.5), ["ratioP50"] = Math.Round(P(start, 0.5) / P(baseline, 0.5), 1) });
    }

    // 4b. session/resume latency: a shell session with one extra terminal, suspended, then resumed
    // (both shells start again). Baseline: two fork+exec of bash -c true from .NET.
    Section("sessionResume", await Figures.ResumeAsync(c, workspace, quick ? 20 : 100));

    var session = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
    var sid = session.GetProperty("id").GetString()!;

    var outputBytes = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
    var exits = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
    c.OnMessage = m =>
    {
        if (!m.TryGetProperty("params", out var p) || !p.TryGetProperty("event", out var e) || !e.TryGetProperty("workerId", out var w))
        {
            return;
        }

        var worker = w.GetString()!;
        var type = e.GetProperty("type").GetString();
        if (type == "output")
        {
            var text = e.GetProperty("data").GetProperty("data").GetString()!;
            outputBytes.AddOrUpdate(worker, text.Length, (_, n) => n + text.Length);
        }
        else if (type == "exit")
        {
            exits[worker] = true;
        }
    };
    await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = session.GetProperty("lastSeq").GetInt64() });

    // 3. Keystroke echo through raw cat, measured by a lean client after a warm-up (Figures.EchoAsync,
    // its own session). Baseline: the same on a raw PTY (C).
    {
        var n = quick ? 1000 : 10_000;
        using var ec = await LeanClient.ConnectAsync(socket);
        var figure = await Figures.EchoAsync(ec, socket, workspace, n);
        var b = Run(ptybase, "echo", n.ToString(CultureInfo.InvariantCulture));
        var bp50 = b["p50us"]!.GetValue<double>() / 1000;
        var bp99 = b["p99us"]!.GetValue<double>() / 1000;
        figure["rawPtyP50ms"] = bp50;
        figure["rawPtyP99ms"] = bp99;
        figure["ratioP50"] = Math.Round(figure["p50ms"]!.GetValue<double>() / bp50, 1);
        figure["ratioP99"] = Math.Round(figure["p99ms"]!.GetValue<double>() / bp99, 1);
        Section("keystrokeEcho", figure);
    }

    // 1. PTY -> client throughput, persisted, read by a light raw client (counts bytes, parses
    // nothing). Baseline: a C forkpty reader of the same command in the same run.
    long replaySeq;
    string floodSid;
    {
        var mb = quick ? 50 : 200;
        // A session of its own that no other client of this benchmark is attached to (the client
        // above parses every event it gets, which would take CPU from the sidecar).
        var floodSession = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
        floodSid = floodSession.GetProperty("id").GetString()!;
        var figure = await Figures.ThroughputInSessionAsync(c, socket, sidecar.Pid, floodSid, mb, warmupMb: 20);
        var b = Run(ptybase, "throughput", $"head -c {mb}000000 /dev/zero | tr '\\0' x");
        var bmbs = b["bytes"]!.GetValue<long>() / 1e6 / b["seconds"]!.GetValue<double>();
        var mbs = figure["sidecarMBps"]!.GetValue<double>();
        figure["rawPtyCMBps"] = Math.Round(bmbs, 1);
        figure["ratio"] = Math.Round(mbs / bmbs, 2);
        figure["goalRatio"] = 0.9;
        Section("throughput", figure);
        replaySeq = (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = floodSid })).GetProperty("lastSeq").GetInt64();
    }

    // 5. Replay from seq 0, read by a raw client that only splits frames (its own cost stays small).
    var replayBig = await Figures.ReplayAsync(socket, floodSid, replaySeq);

    // 2. Bytes lost at exit: workers that print a known amount and exit at once.
    {
        var n = quick ? 100 : 1000;
        const int Each = 10_000;
        var ids = new List<string>();
        for (var i = 0; i < n; i++)
        {
            var w = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sh", ["args"] = new JsonArray("-c", $"head -c {Each} /dev/zero | tr '\\0' y") });
            ids.Add(w.GetProperty("id").GetString()!);
        }

        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (ids.Any(id => !exits.ContainsKey(id)) && DateTime.UtcNow < deadline) await Task.Delay(20);
        var lost = ids.Sum(id => Each - outputBytes.GetValueOrDefault(id));
        Section("bytesLostAtExit", new JsonObject { ["workers"] = n, ["bytesEach"] = Each, ["exitsSeen"] = ids.Count(exits.ContainsKey), ["lostBytes"] = lost, ["goal"] = 0 });
    }

    // 6a. Scale: live shell sessions, the sidecar's memory and CPU per session, session/list latency.
    {
        var n = quick ? 100 : 1000;
        var rss0 = Procs.RssKb(sidecar.Pid);
        var threads0 = Procs.StatusKb(sidecar.Pid, "Threads:");
        var sw = Stopwatch.StartNew();
        var ids = new List<string>();
        for (var i = 0; i < n; i++)
        {
            var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
            ids.Add(s.GetProperty("id").GetString()!);
        }

        var startAll = sw.Elapsed.TotalSeconds;
        await Task.Delay(3000);
        var cpu0 = CpuMs(sidecar.Pid);
        await Task.Delay(10_000);
        var idleCpuPct = (CpuMs(sidecar.Pid) - cpu0) / 100.0;
        var rss1 = Procs.RssKb(sidecar.Pid);
        var list = new List<double>();
        var listAll = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var t = Stopwatch.StartNew();
            await c.RequestAsync("session/list", new JsonObject { ["status"] = new JsonArray("active") });
            list.Add(t.Elapsed.TotalMilliseconds);
            t.Restart();
            await c.RequestAsync("session/list", new JsonObject { ["status"] = new JsonArray("active"), ["limit"] = 1000 });
            listAll.Add(t.Elapsed.TotalMilliseconds);
        }

        var threads1 = Procs.StatusKb(sidecar.Pid, "Threads:");
        sw.Restart();
        foreach (var id in ids)
        {
            await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = id });
        }

        Section("scaleLive", new JsonObject
        {
            ["sessions"] = n, ["startAllSeconds"] = Math.Round(startAll, 1), ["endAllSeconds"] = Math.Round(sw.Elapsed.TotalSeconds, 1),
            ["rssPerSessionKb"] = (rss1 - rss0) / n, ["threadsAdded"] = threads1 - threads0,
            ["idleCpuPercentOfOneCore"] = idleCpuPct, ["listP50ms"] = P(list, 0.5), ["list1000P50ms"] = P(listAll, 0.5),
        });
    }

    // 6b. session/list with 100,000 stored sessions; 5b. replay of 1,000,000 events (~100 MB).
    {
        var n = quick ? 20_000 : 100_000;
        var listDir = Path.Combine(dir, "list");
        await Seeding.SessionsAsync(listDir, n, workspace);
        await using var ls = await SidecarProcess.StartAsync(listDir);
        var first = new List<double>();
        var byWorkspace = new List<double>();
        var page5 = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var t = Stopwatch.StartNew();
            var r = await ls.Client.RequestAsync("session/list", null);
            first.Add(t.Elapsed.TotalMilliseconds);
            t.Restart();
            await ls.Client.RequestAsync("session/list", new JsonObject { ["workspace"] = $"{workspace}/p7", ["status"] = new JsonArray("completed") });
            byWorkspace.Add(t.Elapsed.TotalMilliseconds);
            var cursor = r.GetProperty("nextCursor").GetString();
            t.Restart();
            await ls.Client.RequestAsync("session/list", new JsonObject { ["cursor"] = cursor, ["limit"] = 1000 });
            page5.Add(t.Elapsed.TotalMilliseconds);
        }

        Section("list100k", new JsonObject { ["stored"] = n, ["firstPageP50ms"] = P(first, 0.5), ["byWorkspaceP50ms"] = P(byWorkspace, 0.5), ["page1000P50ms"] = P(page5, 0.5), ["goalMs"] = 50 });
    }

    {
        var n = quick ? 200_000 : 1_000_000;
        var replayDir = Path.Combine(dir, "replay");
        var rsid = await Seeding.EventsAsync(replayDir, n, 100, workspace);
        await using var rs = await SidecarProcess.StartAsync(replayDir);
        var rsock = rs.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var small = await Figures.ReplayAsync(rsock, rsid, n);
        Section("replay", new JsonObject { ["big"] = replayBig, ["small"] = small, ["goalSeconds"] = 1 });
    }

    report["loadAfter"] = File.ReadAllText("/proc/loadavg").Trim();
}
finally
{
    try { Directory.Delete(dir, true); } catch (IOException) { }
}

Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
