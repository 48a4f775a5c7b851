// Sidecar benchmarks, each beside a baseline measured in the same run; prints one JSON object.
//   SidecarBench PTYBASE [quick]      (PTYBASE: the compiled ptybase.c)
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Faults.Tests;

var ptybase = args[0];
var quick = args.Length > 1 && args[1] == "quick";
var report = new JsonObject
{
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} cores, {File.ReadLines("/proc/meminfo").First().Split(':')[1].Trim()}, {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}",
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

try
{
    // 7. Cold start: process start -> initialize result. Baseline: start and reap of /bin/true.
    {
        var cold = new List<double>();
        var spawn = new List<double>();
        for (var i = 0; i < (quick ? 5 : 20); i++)
        {
            var sw = Stopwatch.StartNew();
            await using (var s = await SidecarProcess.StartAsync(Path.Combine(dir, "cold" + i)))
            {
                cold.Add(sw.Elapsed.TotalMilliseconds);
            }

            sw.Restart();
            using (var t = Process.Start("/bin/true")!) { t.WaitForExit(); }
            spawn.Add(sw.Elapsed.TotalMilliseconds);
        }

        report["coldStart"] = new JsonObject { ["p50ms"] = P(cold, 0.5), ["maxms"] = cold.Max(), ["goalMs"] = 150, ["baselineSpawnTrueP50ms"] = P(spawn, 0.5) };
    }

    await using var sidecar = await SidecarProcess.StartAsync(Path.Combine(dir, "main"));
    var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
    using var c = await LeanClient.ConnectAsync(socket);

    // 4. session/start (shell) latency. Baseline: fork+exec of bash -c true from .NET.
    {
        var start = new List<double>();
        var baseline = new List<double>();
        var ids = new List<string>();
        for (var i = 0; i < (quick ? 20 : 100); i++)
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

        report["sessionStart"] = new JsonObject { ["p50ms"] = P(start, 0.5), ["p99ms"] = P(start, 0.99), ["goalP50ms"] = 5, ["baselineBashSpawnP50ms"] = P(baseline, 0.5), ["resume"] = "pending: session/resume is not on this branch" };
    }

    var session = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
    var sid = session.GetProperty("id").GetString()!;

    // Events of one attachment, counted on the reader thread.
    var outputBytes = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
    var exits = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
    var echoSignal = new SemaphoreSlim(0);
    string? echoWorker = null;
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
            if (worker == echoWorker)
            {
                echoSignal.Release();
            }
        }
        else if (type == "exit")
        {
            exits[worker] = true;
        }
    };
    await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = session.GetProperty("lastSeq").GetInt64() });

    // 3. Keystroke echo through raw cat. Baseline: the same on a raw PTY (C).
    {
        var n = quick ? 1000 : 10_000;
        var w = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sh", ["args"] = new JsonArray("-c", "stty raw -echo; exec cat") });
        echoWorker = w.GetProperty("id").GetString()!;
        await Task.Delay(300);
        while (echoSignal.CurrentCount > 0) await echoSignal.WaitAsync();
        var lat = new List<double>();
        for (var i = 0; i < n; i++)
        {
            var sw = Stopwatch.StartNew();
            await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = echoWorker, ["data"] = "k" });
            await echoSignal.WaitAsync();
            lat.Add(sw.Elapsed.TotalMilliseconds);
        }

        echoWorker = null;
        var b = Run(ptybase, "echo", n.ToString(CultureInfo.InvariantCulture));
        var bp50 = b["p50us"]!.GetValue<double>() / 1000;
        var bp99 = b["p99us"]!.GetValue<double>() / 1000;
        report["keystrokeEcho"] = new JsonObject { ["n"] = n, ["p50ms"] = P(lat, 0.5), ["p99ms"] = P(lat, 0.99), ["goalP99ms"] = 1, ["rawPtyP50ms"] = bp50, ["rawPtyP99ms"] = bp99, ["ratioP50"] = Math.Round(P(lat, 0.5) / bp50, 1), ["ratioP99"] = Math.Round(P(lat, 0.99) / bp99, 1) };
    }

    // 1. PTY -> client throughput, persisted. Baseline: C forkpty reader of the same command.
    long replaySeq;
    {
        var mb = quick ? 50 : 200;
        var cmd = $"head -c {mb}000000 /dev/zero | tr '\\0' x";
        var sw = Stopwatch.StartNew();
        var w = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sh", ["args"] = new JsonArray("-c", cmd) });
        var wid = w.GetProperty("id").GetString()!;
        while (!exits.ContainsKey(wid)) await Task.Delay(5);
        var seconds = sw.Elapsed.TotalSeconds;
        var got = outputBytes.GetValueOrDefault(wid);
        var b = Run(ptybase, "throughput", cmd);
        var bmbs = b["bytes"]!.GetValue<long>() / 1e6 / b["seconds"]!.GetValue<double>();
        var mbs = got / 1e6 / seconds;
        report["throughput"] = new JsonObject { ["mb"] = mb, ["bytesReceived"] = got, ["sidecarMBps"] = Math.Round(mbs, 1), ["rawPtyCMBps"] = Math.Round(bmbs, 1), ["ratio"] = Math.Round(mbs / bmbs, 2), ["goalRatio"] = 0.9 };
        replaySeq = (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("lastSeq").GetInt64();
    }

    // 5. Replay from seq 0 of that session (the 200 MB above). Baseline: reading the same bytes from the raw PTY (above).
    {
        using var r = await LeanClient.ConnectAsync(socket);
        long last = 0, bytes = 0;
        r.OnMessage = m =>
        {
            if (m.TryGetProperty("params", out var p) && p.TryGetProperty("event", out var e))
            {
                Interlocked.Exchange(ref last, e.GetProperty("seq").GetInt64());
            }
        };
        var sw = Stopwatch.StartNew();
        await r.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = 0 });
        while (Interlocked.Read(ref last) < replaySeq) await Task.Delay(2);
        bytes = r.BytesRead;
        report["replay"] = new JsonObject { ["events"] = replaySeq, ["wireMB"] = Math.Round(bytes / 1e6, 1), ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3), ["goalSecondsFor100MB"] = 1, ["millionSmallEvents"] = "pending" };
    }

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
        report["bytesLostAtExit"] = new JsonObject { ["workers"] = n, ["bytesEach"] = Each, ["exitsSeen"] = ids.Count(exits.ContainsKey), ["lostBytes"] = lost, ["goal"] = 0 };
    }

    report["loadAfter"] = File.ReadAllText("/proc/loadavg").Trim();
}
finally
{
    try { Directory.Delete(dir, true); } catch (IOException) { }
}

Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
