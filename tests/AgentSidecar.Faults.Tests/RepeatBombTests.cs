using System.Diagnostics;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>
/// Issue 16's terminal repeat bomb: a worker printing <c>a ESC[65535b</c> in a loop (9 bytes that
/// ask for 65,535 cells each) burned a core in the emulator and slowed keystroke echo in every other
/// session to ~1.1 s. The emulator now bounds the work of one sequence (<c>VtScreen.Repeat.cs</c>).
/// </summary>
public sealed class RepeatBombTests : IDisposable
{
    /// <summary>Echo round trips counted, after <see cref="Warmup"/> that are not (a fresh sidecar still jits its path).</summary>
    private const int RoundTrips = 300;

    private const int Warmup = 50;

    /// <summary>
    /// A functional bound, not a speed goal: we assert no timing in tests, but this is a fault test
    /// of the built process, and the unbounded emulator made the p99 ~1.1 s (the figure), so
    /// a p99 under a second tells a bounded REP from the old one even on this shared 2-core machine
    /// under other builds' load (where a bounded one measured 20–70 ms). The goal itself (p99 under
    /// 50 ms) is measured beside a baseline by <c>SidecarBench bomb</c> (docs/benchmarks.md).
    /// </summary>
    private static readonly TimeSpan P99Bound = TimeSpan.FromSeconds(1);

    /// <summary>How long one keystroke's echo may take before it counts as lost.</summary>
    private static readonly TimeSpan Lost = TimeSpan.FromSeconds(10);

    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-bomb-").FullName;

    /// <summary>The data directory: a folder of its own in the test's folder (HOME sits beside it).</summary>
    private string DataDir => Path.Combine(_dir, "data");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact(Timeout = 180000)]
    public async Task AWorkerPrintingTheRepeatBomb_DoesNotStarveEchoInAnotherSession_EveryKeystrokeComesBack_P99UnderASecond()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var socket = c.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;

        var bomb = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
        var bomber = await c.RequestAsync("worker/start", new JsonObject
        {
            ["sessionId"] = bomb.GetProperty("id").GetString(),
            ["command"] = "sh",
            ["args"] = new JsonArray("-c", "while :; do printf 'a\\033[65535b'; done"),
        });
        var bombPid = bomber.GetProperty("pid").GetInt32();

        // The other session: a raw-mode cat echoes each keystroke as one output event.
        var session = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
        var sid = session.GetProperty("id").GetString()!;
        using var client = await LeanClient.ConnectAsync(socket);
        var outputs = new SemaphoreSlim(0);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? echoWorker = null;
        client.OnMessage = m =>
        {
            if (m.TryGetProperty("params", out var p) && p.TryGetProperty("event", out var e) && e.GetProperty("type").GetString() == "output")
            {
                // Its "ready" can arrive before worker/start's answer names the worker; keystrokes are sent only after.
                if (!ready.Task.IsCompleted)
                {
                    if (e.GetProperty("data").GetProperty("data").GetString()!.Contains("ready", StringComparison.Ordinal))
                    {
                        ready.TrySetResult();
                    }
                }
                else if (e.TryGetProperty("workerId", out var w) && w.GetString() == Volatile.Read(ref echoWorker))
                {
                    outputs.Release();
                }
            }
        };
        await client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid });
        var echo = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sh", ["args"] = new JsonArray("-c", "stty raw -echo; printf ready; exec cat") });
        Volatile.Write(ref echoWorker, echo.GetProperty("id").GetString());
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var cpuBefore = Procs.CpuTicks(sidecar.Pid);
        var times = new List<double>();
        for (var i = -Warmup; i < RoundTrips; i++)
        {
            var sw = Stopwatch.StartNew();
            await client.RequestAsync("worker/input", new JsonObject { ["workerId"] = echoWorker, ["data"] = "k" });
            Assert.True(await outputs.WaitAsync(Lost, TestContext.Current.CancellationToken), $"keystroke {i + Warmup} was not echoed within {Lost.TotalSeconds} s");
            if (i >= 0)
            {
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
        }

        // The bomb was running all along (else the test proves nothing), and the sidecar was busy with it.
        Assert.True(Procs.Stat(bombPid) is { } stat && stat[0] != "Z", "the bomb stopped before the echo was measured");
        var cpuTicks = Procs.CpuTicks(sidecar.Pid) - cpuBefore;
        times.Sort();
        var p50 = times[times.Count / 2];
        var p99 = times[(int)(times.Count * 0.99)];
        TestContext.Current.SendDiagnosticMessage($"echo under the repeat bomb: p50 {p50:F1} ms, p99 {p99:F1} ms, max {times[^1]:F1} ms; sidecar CPU {cpuTicks} ticks meanwhile");
        Assert.True(p99 < P99Bound.TotalMilliseconds, $"echo p99 {p99:F0} ms under the repeat bomb (p50 {p50:F0} ms)");
    }
}
