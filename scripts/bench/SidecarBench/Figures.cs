using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Faults.Tests;

namespace AgentSidecar.Bench;

/// <summary>Figures that can also run alone (before/after comparisons of one change).</summary>
internal static class Figures
{
    /// <summary>
    /// Round trips not counted: a fresh sidecar still compiles its hot path (tiered JIT) for the
    /// first few seconds, on the same 2 cores. BENCH_ECHO_WARMUP overrides.
    /// </summary>
    public static readonly int EchoWarmup = int.TryParse(Environment.GetEnvironmentVariable("BENCH_ECHO_WARMUP"), out var w) ? w : 8000;

    public static double P(List<double> xs, double q)
    {
        xs.Sort();
        return Math.Round(xs[Math.Min(xs.Count - 1, (int)(xs.Count * q))], 3);
    }

    public static async Task RunAsync(string[] args)
    {
        var report = new JsonObject
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["sidecar"] = SidecarProcess.Executable,
            ["loadBefore"] = File.ReadAllText("/proc/loadavg").Trim(),
        };
        var dir = Directory.CreateTempSubdirectory("sidecar-bench-").FullName;
        try
        {
            if (args[0] == "replay")
            {
                var data = args[1];
                var n = int.Parse(args[2], CultureInfo.InvariantCulture);
                var runs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
                var idFile = Path.Combine(data, "seeded-session");
                if (!File.Exists(idFile))
                {
                    File.WriteAllText(idFile, await Seeding.EventsAsync(data, n, 100, "/tmp"));
                }

                var sid = File.ReadAllText(idFile).Trim();
                await using var rs = await SidecarProcess.StartAsync(data);
                var sock = rs.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
                var results = new JsonArray();
                for (var i = 0; i < runs; i++)
                {
                    // The sidecar's CPU per replay is the figure to compare on a loaded machine.
                    var cpu0 = CpuMs(rs.Pid);
                    var r = await ReplayAsync(sock, sid, n);
                    r["sidecarCpuSeconds"] = (CpuMs(rs.Pid) - cpu0) / 1000.0;
                    results.Add(r);
                }

                report["replay"] = results;
                report["sidecarCpuMs"] = CpuMs(rs.Pid);
            }
            else if (args[0] == "bomb")
            {
                report["repeatBomb"] = await RepeatBomb.RunAsync(dir, int.Parse(args[1], CultureInfo.InvariantCulture), args[2..]);
            }
            else if (args[0] == "many")
            {
                report["manySessions"] = await ManySessions.RunAsync(dir, int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), args[3..]);
            }
            else if (args[0] == "cold")
            {
                report["coldStart"] = await ColdAsync(dir, int.Parse(args[1], CultureInfo.InvariantCulture), args[2..]);
            }
            else if (args[0] == "throughput")
            {
                await using var sidecar = await SidecarProcess.StartAsync(Path.Combine(dir, "main"));
                var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
                using var c = await LeanClient.ConnectAsync(socket);
                var ws = Directory.CreateDirectory(Path.Combine(dir, "ws")).FullName;
                report["throughput"] = await ThroughputAsync(c, socket, sidecar.Pid, ws, int.Parse(args[1], CultureInfo.InvariantCulture));
            }
            else if (args[0] == "echo")
            {
                await using var sidecar = await SidecarProcess.StartAsync(Path.Combine(dir, "main"));
                var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
                using var c = await LeanClient.ConnectAsync(socket);
                var ws = Directory.CreateDirectory(Path.Combine(dir, "ws")).FullName;
                report["keystrokeEcho"] = await EchoAsync(c, socket, ws, int.Parse(args[1], CultureInfo.InvariantCulture));
            }
            else
            {
                await using var sidecar = await SidecarProcess.StartAsync(Path.Combine(dir, "main"));
                var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
                using var c = await LeanClient.ConnectAsync(socket);
                var ws = Directory.CreateDirectory(Path.Combine(dir, "ws")).FullName;
                report["sessionResume"] = await ResumeAsync(c, ws, int.Parse(args[1], CultureInfo.InvariantCulture));
            }

            report["loadAfter"] = File.ReadAllText("/proc/loadavg").Trim();
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }

        Console.WriteLine(report.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Cold start (process start -> initialize result) of several builds, alternated start by start
    /// (in a turning order) so each sees the same load; each has its own existing data directory (one start, not counted, creates it).
    /// Also the sidecar's CPU time until the result (all its threads; 10 ms ticks, so the mean).
    /// With $BENCH_HELLO_WORLD (scripts/bench/HelloWorld, published the same way) its start -> exit
    /// is alternated with them too, and each build's p50 is given as a ratio to it (the 2x goal).
    /// </summary>
    public static async Task<JsonObject> ColdAsync(string dir, int n, string[] builds)
    {
        var helloExe = Environment.GetEnvironmentVariable("BENCH_HELLO_WORLD");
        var times = builds.Select(_ => new List<double>()).ToArray();
        var cpu = builds.Select(_ => new List<double>()).ToArray();
        var hello = new List<double>();
        for (var round = -1; round < n; round++)
        {
            // The order turns each round, so no build always follows the same one (a process that
            // just ended can still be tearing down while the next starts).
            for (var k = 0; k < builds.Length; k++)
            {
                var b = (k + Math.Max(round, 0)) % builds.Length;
                Environment.SetEnvironmentVariable("AGENT_SIDECAR_BIN", builds[b]);
                var sw = Stopwatch.StartNew();
                await using (var s = await SidecarProcess.StartAsync(Path.Combine(dir, $"cold-{b}")))
                {
                    if (round >= 0)
                    {
                        times[b].Add(sw.Elapsed.TotalMilliseconds);
                        cpu[b].Add(CpuMs(s.Pid));
                    }
                }
            }

            if (helloExe is not null)
            {
                var sw = Stopwatch.StartNew();
                using (var t = Process.Start(new ProcessStartInfo(helloExe) { RedirectStandardOutput = true })!)
                {
                    await t.StandardOutput.ReadToEndAsync();
                    await t.WaitForExitAsync();
                }

                if (round >= 0)
                {
                    hello.Add(sw.Elapsed.TotalMilliseconds);
                }
            }
        }

        Environment.SetEnvironmentVariable("AGENT_SIDECAR_BIN", null);
        var result = new JsonObject { ["n"] = n };
        var helloP50 = hello.Count > 0 ? P(hello, 0.5) : double.NaN;
        if (hello.Count > 0)
        {
            result["helloWorld"] = new JsonObject { ["p50ms"] = helloP50, ["p90ms"] = P(hello, 0.9), ["minMs"] = P(hello, 0) };
        }

        for (var b = 0; b < builds.Length; b++)
        {
            var p50 = P(times[b].ToList(), 0.5);
            var build = new JsonObject { ["p50ms"] = p50, ["p90ms"] = P(times[b].ToList(), 0.9), ["minMs"] = P(times[b].ToList(), 0), ["cpuMeanMs"] = Math.Round(cpu[b].Average(), 1) };
            if (hello.Count > 0)
            {
                build["toHelloWorld"] = Math.Round(p50 / helloP50, 2);
            }

            if (b > 0)
            {
                // Start by start against the first build, started just before it in the same round:
                // less moved by the load of a shared machine than the difference of the two p50s.
                build["pairedDiffToFirstP50ms"] = P(times[b].Zip(times[0], (x, y) => x - y).ToList(), 0.5);
            }

            result[builds[b]] = build;
        }

        return result;
    }

    public static long CpuMs(int pid)
    {
        var st = File.ReadAllText($"/proc/{pid}/stat");
        var f = st[(st.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) * 10;
    }

    /// <summary>PTY → client: MB megabytes of 'x' from a shell worker, read by a raw socket client that parses nothing.</summary>
    public static async Task<JsonObject> ThroughputAsync(LeanClient c, string socket, int pid, string workspace, int mb)
    {
        var session = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
        var sid = session.GetProperty("id").GetString()!;
        var result = await ThroughputInSessionAsync(c, socket, pid, sid, mb, warmupMb: 20);
        await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = sid });
        return result;
    }

    /// <summary>The throughput figure in an existing session (the full run replays that session afterwards).</summary>
    public static async Task<JsonObject> ThroughputInSessionAsync(LeanClient c, string socket, int pid, string sid, int mb, int warmupMb = 0)
    {
        JsonObject? fresh = null;
        if (warmupMb > 0)
        {
            // A first, shorter flood on the fresh sidecar: its JIT compiles the flood path meanwhile.
            fresh = await ThroughputInSessionAsync(c, socket, pid, sid, warmupMb);
        }

        var cmd = $"head -c {mb}000000 /dev/zero | tr '\\0' x";
        var from = (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("lastSeq").GetInt64();
        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await raw.ConnectAsync(new UnixDomainSocketEndPoint(socket));
        using var stream = new NetworkStream(raw);
        foreach (var json in new[] { """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}""", $$$"""{"jsonrpc":"2.0","id":2,"method":"session/attach","params":{"sessionId":"{{{sid}}}","channels":["pty"],"afterSeq":{{{from}}}}}""" })
        {
            var body = Encoding.UTF8.GetBytes(json);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
        }

        await Task.Delay(500);
        var buffer = new byte[1 << 20];
        while (raw.Available > 0) _ = await stream.ReadAsync(buffer);
        var cpu0 = CpuMs(pid);
        var sw = Stopwatch.StartNew();
        await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sh", ["args"] = new JsonArray("-c", cmd) });
        long xs = 0;
        var exit = "\"type\":\"exit\""u8.ToArray();
        while (true)
        {
            var n = await stream.ReadAsync(buffer);
            var span = buffer.AsSpan(0, n);
            var at = span.IndexOf(exit);
            xs += (at < 0 ? span : span[..at]).Count((byte)'x');
            if (at >= 0) break;
        }

        var seconds = sw.Elapsed.TotalSeconds;
        var cpu = CpuMs(pid) - cpu0;
        var result = new JsonObject { ["mb"] = mb, ["bytesReceived"] = xs, ["sidecarMBps"] = Math.Round(xs / 1e6 / seconds, 1), ["sidecarCpuMsPerMB"] = Math.Round(cpu / (double)mb, 1) };
        if (fresh is not null)
        {
            result["firstFloodOnFreshSidecar"] = fresh;
        }

        return result;
    }

    /// <summary>
    /// Keystroke echo measured by a lean client, as the C baseline is: one blocking socket on the
    /// calling thread (no async hops, no JSON parsing), a <c>worker/input</c> frame out, then frames
    /// read until both its result and the worker's output event are in. 1,000 warm-up round trips
    /// are not counted. Returns the latencies in ms.
    /// </summary>
    public static (List<double> Fresh, List<double> Warm) EchoRaw(string socketPath, string sessionId, long afterSeq, string workerId, int n)
    {
        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        raw.Connect(new UnixDomainSocketEndPoint(socketPath));
        var inbox = new byte[1 << 20];
        var filled = 0;
        void Send(string json)
        {
            var body = Encoding.UTF8.GetBytes(json);
            raw.Send([.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body]);
        }

        // Reads frames until `done` has seen what it waits for; `done` gets each body.
        void ReadUntil(Func<ReadOnlySpan<byte>, bool> done)
        {
            var finished = false;
            while (true)
            {
                var pos = 0;
                while (true)
                {
                    var span = inbox.AsSpan(pos, filled - pos);
                    var end = span.IndexOf("\r\n\r\n"u8);
                    if (end < 0) break;
                    var length = int.Parse(Encoding.ASCII.GetString(span[16..end]), CultureInfo.InvariantCulture);
                    if (span.Length < end + 4 + length) break;
                    finished |= done(span.Slice(end + 4, length));
                    pos += end + 4 + length;
                }

                inbox.AsSpan(pos, filled - pos).CopyTo(inbox);
                filled -= pos;
                if (finished) return;
                filled += raw.Receive(inbox, filled, inbox.Length - filled, SocketFlags.None);
            }
        }

        Send("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}""");
        ReadUntil(b => b.IndexOf("\"id\":1,"u8) >= 0);
        Send($$$"""{"jsonrpc":"2.0","id":2,"method":"session/attach","params":{"sessionId":"{{{sessionId}}}","channels":["pty"],"afterSeq":{{{afterSeq}}}}}""");
        ReadUntil(b => b.IndexOf("\"id\":2,"u8) >= 0);
        var worker = Encoding.UTF8.GetBytes($"\"workerId\":\"{workerId}\"");
        var lat = new List<double>(n);
        var fresh = new List<double>();
        for (var i = -EchoWarmup; i < n; i++)
        {
            var id = 10 + i + EchoWarmup;
            var result = Encoding.ASCII.GetBytes($"\"id\":{id},");
            var sw = Stopwatch.StartNew();
            Send($$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"worker/input","params":{"workerId":"{{{workerId}}}","data":"k"}}""");
            bool gotResult = false, gotEcho = false;
            ReadUntil(b =>
            {
                gotResult |= b.IndexOf(result) >= 0;
                gotEcho |= b.IndexOf("\"type\":\"output\""u8) >= 0 && b.IndexOf(worker) >= 0;
                return gotResult && gotEcho;
            });
            (i >= 0 ? lat : fresh).Add(sw.Elapsed.TotalMilliseconds);
        }

        return (fresh, lat);
    }

    /// <summary>Keystroke echo through raw <c>cat</c>: worker/input of one byte → its output event, n times.</summary>
    public static async Task<JsonObject> EchoAsync(LeanClient c, string socket, string workspace, int n)
    {
        var session = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
        var sid = session.GetProperty("id").GetString()!;
        var signal = new SemaphoreSlim(0);
        string? echoWorker = null;
        c.OnMessage = m =>
        {
            if (m.TryGetProperty("params", out var p) && p.TryGetProperty("event", out var e) && e.TryGetProperty("workerId", out var w)
                && w.GetString() == echoWorker && e.GetProperty("type").GetString() == "output")
            {
                signal.Release();
            }
        };
        var wk = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sh", ["args"] = new JsonArray("-c", "stty raw -echo; exec cat") });
        echoWorker = wk.GetProperty("id").GetString()!;
        await Task.Delay(300);

        // The lean client first, as the only client attached; then this one alone.
        var (fresh, rawClient) = EchoRaw(socket, sid, session.GetProperty("lastSeq").GetInt64(), echoWorker, n);
        fresh = fresh.Take(1000).ToList();
        await Task.Delay(300);
        var attach = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = attach.GetProperty("lastSeq").GetInt64() });
        var lat = new List<double>();
        for (var i = -EchoWarmup; i < n; i++)
        {
            // The first 1,000 warm the path up (a fresh sidecar still jits it) and are not counted.
            var sw = Stopwatch.StartNew();
            await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = echoWorker, ["data"] = "k" });
            await signal.WaitAsync();
            if (i >= 0)
            {
                lat.Add(sw.Elapsed.TotalMilliseconds);
            }
        }

        await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = sid });
        if (Environment.GetEnvironmentVariable("BENCH_ECHO_DUMP") is { Length: > 0 } dump)
        {
            File.WriteAllLines(dump, lat.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)));
            File.WriteAllLines(dump + ".lean", rawClient.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)));
        }

        return new JsonObject
        {
            ["n"] = n,
            ["warmup"] = EchoWarmup,
            ["p50ms"] = P(rawClient, 0.5),
            ["p90ms"] = P(rawClient, 0.9),
            ["p99ms"] = P(rawClient, 0.99),
            ["goalP99ms"] = 1,
            ["freshSidecarFirst1000P50ms"] = fresh.Count > 0 ? P(fresh, 0.5) : null,
            ["freshSidecarFirst1000P99ms"] = fresh.Count > 0 ? P(fresh, 0.99) : null,
            ["asyncClientP50ms"] = P(lat, 0.5),
            ["asyncClientP99ms"] = P(lat, 0.99),
        };
    }

    /// <summary>
    /// session/resume of a shell session with one extra terminal: the session is suspended (both
    /// shells stop), then resume is timed until its result (both shells started again).
    /// </summary>
    public static async Task<JsonObject> ResumeAsync(LeanClient c, string workspace, int n)
    {
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
        var id = s.GetProperty("id").GetString()!;
        await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = id, ["kind"] = "terminal", ["command"] = "bash", ["args"] = new JsonArray("--norc") });
        var resume = new List<double>();
        var suspend = new List<double>();
        var baseline = new List<double>();
        for (var i = 0; i < n + 3; i++)
        {
            var sw = Stopwatch.StartNew();
            await c.RequestAsync("session/suspend", new JsonObject { ["sessionId"] = id });
            var suspendMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var r = await c.RequestAsync("session/resume", new JsonObject { ["sessionId"] = id });
            var resumeMs = sw.Elapsed.TotalMilliseconds;
            if (r.GetProperty("status").GetString() != "active")
            {
                throw new InvalidOperationException($"resume returned {r}");
            }

            sw.Restart();
            for (var k = 0; k < 2; k++)
            {
                using var t = Process.Start("/bin/bash", ["-c", "true"])!;
                t.WaitForExit();
            }

            if (i >= 3)
            {
                // The first three are warm-up (JIT of the resume path).
                resume.Add(resumeMs);
                suspend.Add(suspendMs);
                baseline.Add(sw.Elapsed.TotalMilliseconds);
            }
        }

        var workers = await c.RequestAsync("worker/list", new JsonObject { ["sessionId"] = id });
        var running = workers.GetProperty("workers").EnumerateArray().Count(w => w.GetProperty("status").GetString() == "running");
        await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = id });
        return new JsonObject
        {
            ["n"] = resume.Count, ["workersRunningAfter"] = running, ["p50ms"] = P(resume, 0.5), ["p99ms"] = P(resume, 0.99), ["goalMs"] = 10,
            ["suspendP50ms"] = P(suspend, 0.5), ["baselineTwoBashSpawnsP50ms"] = P(baseline, 0.5), ["ratioP50"] = Math.Round(P(resume, 0.5) / P(baseline, 0.5), 1),
        };
    }

    /// <summary>Replay from seq 0, read by a raw client that only splits frames (its own cost stays small).</summary>
    public static async Task<JsonObject> ReplayAsync(string sock, string sessionId, long lastSeq)
    {
        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await raw.ConnectAsync(new UnixDomainSocketEndPoint(sock));
        using var stream = new NetworkStream(raw);
        var sw = Stopwatch.StartNew();
        foreach (var json in new[] { """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}""", $$$"""{"jsonrpc":"2.0","id":2,"method":"session/attach","params":{"sessionId":"{{{sessionId}}}","afterSeq":0}}""" })
        {
            var body = Encoding.UTF8.GetBytes(json);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
        }

        // Frames: the two results, then one per event.
        var buffer = new byte[1 << 20];
        long frames = 0, bytes = 0, skip = 0;
        var filled = 0;
        while (frames < lastSeq + 2)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(filled));
            if (n == 0)
            {
                throw new IOException("the sidecar closed the connection");
            }

            bytes += n;
            filled += n;
            var span = buffer.AsSpan(0, filled);
            var pos = 0;
            while (true)
            {
                if (skip > 0)
                {
                    var take = (int)Math.Min(skip, span.Length - pos);
                    pos += take;
                    skip -= take;
                    if (skip > 0) break;
                    frames++;
                }

                var end = span[pos..].IndexOf("\r\n\r\n"u8);
                if (end < 0) break;
                // Allocation-free: the client's own cost shares the 2 cores with the sidecar.
                if (!System.Buffers.Text.Utf8Parser.TryParse(span.Slice(pos + 16, end - 16), out skip, out _))
                {
                    throw new InvalidDataException("a frame header without a Content-Length");
                }

                pos += end + 4;
            }

            span[pos..].CopyTo(buffer);
            filled = span.Length - pos;
        }

        return new JsonObject { ["events"] = lastSeq, ["wireMB"] = Math.Round(bytes / 1e6, 1), ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3) };
    }
}
