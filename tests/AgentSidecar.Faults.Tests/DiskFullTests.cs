using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>
/// The event log cannot be written: a file-size limit (RLIMIT_FSIZE, set on the running sidecar
/// with prlimit(2)) makes every write past the files' current size fail with EFBIG, as a full disk
/// fails with ENOSPC. Works for any user, needs no mount and no loop device.
/// </summary>
public sealed partial class DiskFullTests : IDisposable
{
    private const int RlimitFsize = 1;
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-full-").FullName;
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

    [Fact(Timeout = 120000)]
    public async Task EventLogUnwritable_ClientsGetAClearError_TheSessionRunsOn_LostOutputIsReported_NothingAcknowledgedIsLost()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var socket = c.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;
        var wid = s.GetProperty("workers")[0].GetProperty("id").GetString()!;
        using var watcher = await LeanClient.ConnectAsync(socket);
        var received = new Dictionary<long, string>();
        watcher.OnMessage = m =>
        {
            if (m.TryGetProperty("method", out var method) && method.GetString() == "session/event")
            {
                var e = m.GetProperty("params").GetProperty("event");
                lock (received)
                {
                    received[e.GetProperty("seq").GetInt64()] = e.GetRawText();
                }
            }
        };
        await watcher.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid });
        bool Saw(string text)
        {
            lock (received)
            {
                return received.Values.Any(v => v.Contains(text, StringComparison.Ordinal));
            }
        }

        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = wid, ["data"] = "echo before-$((1+1))\r" });
        Assert.True(await Procs.WaitUntilAsync(() => Saw("before-2"), TimeSpan.FromSeconds(20)));

        // No file may grow past its size now (plus a little): the WAL fills up at its next growth.
        var largest = Directory.EnumerateFiles(DataDir, "*", SearchOption.AllDirectories).Max(f => new FileInfo(f).Length);
        SetFileSizeLimit(sidecar.Pid, (ulong)largest + 64 * 1024);
        try
        {
            await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = wid, ["data"] = "head -c 30000000 /dev/zero | tr '\\0' q; echo; echo during-$((2+2))\r" });
            Assert.True(await Procs.WaitUntilAsync(() => sidecar.Stderr.Contains("committing to the event log failed", StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
                $"no write failed; stderr: {sidecar.Stderr}");

            // A request that must write gets an error that says what is wrong, at once.
            var error = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false }, TimeSpan.FromSeconds(20)));
            Assert.Equal(-32603, error.Code);
            Assert.Matches("(?i)disk|full|I/O", error.Message);
            Assert.False(sidecar.Stderr.Contains("Unhandled exception", StringComparison.Ordinal), sidecar.Stderr);
        }
        finally
        {
            SetFileSizeLimit(sidecar.Pid, ulong.MaxValue);
        }

        // The sidecar and the session lived through it: the shell still answers, and it is recorded.
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = wid, ["data"] = "echo after-$((3+3))\r" });
        Assert.True(await Procs.WaitUntilAsync(() => Saw("after-6"), TimeSpan.FromSeconds(30)), $"the session's output is no longer recorded; stderr: {sidecar.Stderr}");
        Assert.Equal("active", (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());
        var fresh = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["reuse"] = false });
        Assert.Equal("active", fresh.GetProperty("status").GetString());

        // The loss is visible in the log itself, and every event a client got is there, gap-free.
        var log = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = after, ["limit"] = 10000 });
            var events = page.GetProperty("events").EnumerateArray().ToList();
            log.AddRange(events);
            if (!page.GetProperty("hasMore").GetBoolean() || events.Count == 0)
            {
                break;
            }

            after = events[^1].GetProperty("seq").GetInt64();
        }

        Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(e => e.GetProperty("seq").GetInt64()));
        var lost = log.Where(e => e.GetProperty("type").GetString() == "error" && e.GetProperty("data").TryGetProperty("source", out var src) && src.GetString() == "store").ToList();
        Assert.NotEmpty(lost);
        Assert.True(lost[0].GetProperty("data").GetProperty("lostBytes").GetInt64() > 0);
        var bySeq = log.ToDictionary(e => e.GetProperty("seq").GetInt64(), e => e.GetRawText());
        lock (received)
        {
            Assert.Equal(Enumerable.Range(1, received.Count).Select(i => (long)i), received.Keys.Order());
            foreach (var (seq, raw) in received)
            {
                Assert.Equal(bySeq[seq], raw);
            }
        }

        TestContext.Current.SendDiagnosticMessage($"disk full: {lost[0].GetProperty("data").GetProperty("message").GetString()}");
    }

    [Fact(Timeout = 120000)]
    public async Task TransitionWhileTheLogCannotBeWritten_FailsWithAClearError_AndLeavesTheOldSessionWholeAndLive()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        var fake = new JsonObject
        {
            ["command"] = "bash",
            ["args"] = new JsonArray("--norc", Path.Combine(SidecarProcess.RepoRoot, "tests", "testdata", "agents", "fake-agent.sh")),
            ["ready"] = new JsonObject { ["osc"] = "^7501;state=idle" },
            ["busy"] = new JsonObject { ["osc"] = "^7501;state=working" },
            ["done"] = new JsonObject { ["osc"] = "^7501;state=done" },
            ["input"] = new JsonObject { ["bracketedPaste"] = false, ["submitSeparately"] = false },
            ["interrupt"] = "\u001b",
            ["answerPattern"] = "^• ",
            ["chromePatterns"] = new JsonArray("^›"),
            ["clear"] = new JsonObject { ["command"] = "/clear", ["enters"] = 1 },
        };
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["providers"] = new JsonObject { ["fake"] = fake } });
        var c = sidecar.Client;
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "fake" });
        var sid = s.GetProperty("id").GetString()!;
        var shell = (await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "/bin/bash", ["args"] = new JsonArray("--norc") })).GetProperty("id").GetString()!;
        Assert.Equal("ECHO[1]:one", (await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "one" })).GetProperty("text").GetString());

        var largest = Directory.EnumerateFiles(DataDir, "*", SearchOption.AllDirectories).Max(f => new FileInfo(f).Length);
        SetFileSizeLimit(sidecar.Pid, (ulong)largest + 64 * 1024);
        try
        {
            await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = shell, ["data"] = "while :; do head -c 2000000 /dev/zero | tr '\\0' q; done\r" });
            Assert.True(await Procs.WaitUntilAsync(() => sidecar.Stderr.Contains("committing to the event log failed", StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
                $"no write failed; stderr: {sidecar.Stderr}");

            var error = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/clear", new JsonObject { ["sessionId"] = sid }, TimeSpan.FromSeconds(30)));
            Assert.Equal(-32603, error.Code);
            Assert.Matches("(?i)disk|full|I/O", error.Message);
            await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = shell, ["data"] = "\u0003" });
        }
        finally
        {
            SetFileSizeLimit(sidecar.Pid, ulong.MaxValue);
        }

        // Nothing of the new session exists; the old one is live, with its workers, and records on.
        var list = await c.RequestAsync("session/list", new JsonObject { ["workspace"] = workspace });
        Assert.Equal([sid], list.GetProperty("sessions").EnumerateArray().Select(x => x.GetProperty("id").GetString()));
        var view = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("active", view.GetProperty("status").GetString());
        Assert.False(view.TryGetProperty("transitionedTo", out _));
        Assert.All(view.GetProperty("workers").EnumerateArray(), w => Assert.Equal(sid, w.GetProperty("sessionId").GetString()));
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = shell, ["data"] = "echo after-$((3+3))\r" });
        var recorded = await Procs.WaitUntilAsync(
            () => c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = 0, ["limit"] = 10000, ["channels"] = new JsonArray("pty") }).GetAwaiter().GetResult()
                .GetProperty("events").EnumerateArray().Any(e => e.GetProperty("type").GetString() == "output" && e.GetProperty("data").GetProperty("data").GetString()!.Contains("after-6", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30));
        Assert.True(recorded, "the shell's output after the failed clear is not recorded in the old session");
        var answer = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "two" });
        Assert.Equal(sid, answer.GetProperty("sessionId").GetString());
        Assert.Equal("completed", answer.GetProperty("status").GetString());

        // A clear that can be written now goes through.
        var cleared = await c.RequestAsync("session/clear", new JsonObject { ["sessionId"] = sid });
        Assert.Equal(sid, cleared.GetProperty("current").GetProperty("transitionedFrom").GetString());
    }

    /// <summary>RLIMIT_FSIZE of a running process (prlimit(2)): writes past it fail with EFBIG, as on a full disk.</summary>
    internal static void SetFileSizeLimit(int pid, ulong bytes)
    {
        var limit = new RLimit { Current = bytes, Max = ulong.MaxValue };
        Assert.True(Prlimit(pid, RlimitFsize, ref limit, IntPtr.Zero) == 0, $"prlimit failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    [LibraryImport("libc", EntryPoint = "prlimit", SetLastError = true)]
    private static partial int Prlimit(int pid, int resource, ref RLimit newLimit, IntPtr oldLimit);
}
