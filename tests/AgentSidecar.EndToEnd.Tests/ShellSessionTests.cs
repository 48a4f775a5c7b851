using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>The built sidecar over stdio, real PTYs, real bash, a real SQLite file.</summary>
public sealed class ShellSessionTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-e2e-").FullName;
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

    private string Workspace
    {
        get
        {
            var w = Path.Combine(_dir, "workspace");
            Directory.CreateDirectory(w);
            return w;
        }
    }

    internal static string Output(IEnumerable<JsonElement> events, string? workerId = null) =>
        string.Concat(events.Where(e => e.GetProperty("channel").GetString() == "pty" && e.GetProperty("type").GetString() == "output"
                && (workerId is null || e.GetProperty("workerId").GetString() == workerId))
            .Select(e => e.GetProperty("data").GetProperty("data").GetString()));

    private static async Task<(string SessionId, string WorkerId)> StartShellAsync(RpcClient c, string workspace)
    {
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell", ["cols"] = 100, ["rows"] = 30 });
        Assert.Equal("active", s.GetProperty("status").GetString());
        return (s.GetProperty("id").GetString()!, s.GetProperty("workers")[0].GetProperty("id").GetString()!);
    }

    private static async Task<string> AttachAsync(RpcClient c, string sessionId, long afterSeq = 0) =>
        (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sessionId, ["afterSeq"] = afterSeq })).GetProperty("attachId").GetString()!;

    private static Task TypeAsync(RpcClient c, string workerId, string text) =>
        c.RequestAsync("worker/input", new JsonObject { ["workerId"] = workerId, ["data"] = text });

    [Fact(Timeout = 60000)]
    public async Task ShellSession_EchoCommand_ShowsItsOutputAsAnEvent()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var (sid, wid) = await StartShellAsync(c, Workspace);
        var attach = await AttachAsync(c, sid);
        await TypeAsync(c, wid, "echo hello-$((6*7))\r");
        var events = await c.WaitForEventsAsync(attach, e => Output(e, wid).Contains("hello-42\r\n", StringComparison.Ordinal), Wait);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal("created", events[0].GetProperty("data").GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task Input_TheChildHasNoRoomFor_ArrivesWholeAndInOrder()
    {
        // The master is non-blocking: what the PTY cannot take at once is queued and written as the
        // child reads. A child that reads only once the test has typed everything (the file "go")
        // makes 600 kB of input wait in that queue.
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var (sid, _) = await StartShellAsync(c, Workspace);
        var attach = await AttachAsync(c, sid);
        var worker = await c.RequestAsync("worker/start", new JsonObject
        {
            ["sessionId"] = sid,
            ["command"] = "sh",
            ["args"] = new JsonArray("-c", "stty raw -echo; echo READY; while [ ! -e go ]; do sleep 0.02; done; head -c 600000 > received; echo DONE-$((2+3))"),
        });
        var wid = worker.GetProperty("id").GetString()!;
        await c.WaitForEventsAsync(attach, e => Output(e, wid).Contains("READY", StringComparison.Ordinal), Wait);
        var random = new Random(7);
        var parts = Enumerable.Range(0, 10).Select(_ => new string(Enumerable.Range(0, 60_000).Select(_ => (char)('a' + random.Next(26))).ToArray())).ToList();
        foreach (var part in parts)
        {
            await TypeAsync(c, wid, part);
        }

        Assert.False(File.Exists(Path.Combine(Workspace, "received")), "the child read before it was let go");
        await File.WriteAllTextAsync(Path.Combine(Workspace, "go"), "", TestContext.Current.CancellationToken);
        await c.WaitForEventsAsync(attach, e => Output(e, wid).Contains("DONE-5", StringComparison.Ordinal), Wait);
        Assert.Equal(string.Concat(parts), File.ReadAllText(Path.Combine(Workspace, "received")));
    }

    [Fact(Timeout = 60000)]
    public async Task Input_ToAWorkerThatNeverReads_IsRefusedPast8MiB_AndNothingElseIsHarmed()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var (sid, shell) = await StartShellAsync(c, Workspace);
        var attach = await AttachAsync(c, sid);
        var worker = await c.RequestAsync("worker/start", new JsonObject
        {
            ["sessionId"] = sid,
            ["command"] = "sh",
            ["args"] = new JsonArray("-c", "stty raw -echo; echo READY; exec sleep 600"),
        });
        var wid = worker.GetProperty("id").GetString()!;
        await c.WaitForEventsAsync(attach, e => Output(e, wid).Contains("READY", StringComparison.Ordinal), Wait);
        var part = new string('y', 1_000_000);
        RpcErrorException? refused = null;
        var accepted = 0;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            try
            {
                await TypeAsync(c, wid, part);
                accepted++;
            }
            catch (RpcErrorException ex)
            {
                refused = ex;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(1007, refused.Code);
        Assert.Contains("not reading its input", refused.Message, StringComparison.Ordinal);
        var pending = refused.ErrorData!.Value.GetProperty("pendingBytes").GetInt64();
        Assert.InRange(pending, 7_000_000, 8 * 1024 * 1024);
        Assert.InRange(accepted, 7, 9);

        // The other terminal of the session still works, and the stuck worker stops.
        await TypeAsync(c, shell, "echo still-$((40+2))\r");
        await c.WaitForEventsAsync(attach, e => Output(e, shell).Contains("still-42", StringComparison.Ordinal), Wait);
        var stopped = await c.RequestAsync("worker/stop", new JsonObject { ["workerId"] = wid });
        Assert.Equal("exited", stopped.GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task Resize_ChangesWhatSttySizeReports_AndIsRecorded()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var (sid, wid) = await StartShellAsync(c, Workspace);
        var attach = await AttachAsync(c, sid);
        await TypeAsync(c, wid, "stty size\r");
        await c.WaitForEventsAsync(attach, e => Output(e).Contains("30 100", StringComparison.Ordinal), Wait);
        await c.RequestAsync("worker/resize", new JsonObject { ["workerId"] = wid, ["cols"] = 132, ["rows"] = 43 });
        await TypeAsync(c, wid, "stty size\r");
        var events = await c.WaitForEventsAsync(attach, e => Output(e).Contains("43 132", StringComparison.Ordinal), Wait);
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "resize" && e.GetProperty("data").GetProperty("cols").GetInt32() == 132);
        var workers = await c.RequestAsync("worker/list", new JsonObject { ["sessionId"] = sid });
        Assert.Equal(132, workers.GetProperty("workers")[0].GetProperty("cols").GetInt32());
    }

    [Fact(Timeout = 120000)]
    public async Task SecondClient_OnTheSocket_AttachingWhileOutputStreams_SeesTheSameGapFreeEvents()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c1 = sidecar.Client;
        var socket = c1.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var (sid, wid) = await StartShellAsync(c1, Workspace);
        var a1 = await AttachAsync(c1, sid);
        await TypeAsync(c1, wid, "for i in $(seq 1 10000); do echo line-$i; done; echo DONE-$((1+1))\r");

        // The second client attaches from seq 0 while the loop is printing.
        await c1.WaitForEventsAsync(a1, e => Output(e).Contains("line-200\r\n", StringComparison.Ordinal), Wait);
        using var c2 = await SidecarProcess.ConnectSocketAsync(socket);
        var a2 = await AttachAsync(c2, sid);

        static bool Done(List<JsonElement> e) => Output(e).Contains("DONE-2", StringComparison.Ordinal);
        var e1 = await c1.WaitForEventsAsync(a1, Done, TimeSpan.FromSeconds(90));
        var e2 = await c2.WaitForEventsAsync(a2, Done, TimeSpan.FromSeconds(90));
        var last = Math.Min(e1[^1].GetProperty("seq").GetInt64(), e2[^1].GetProperty("seq").GetInt64());
        var s1 = e1.TakeWhile(e => e.GetProperty("seq").GetInt64() <= last).Select(e => e.GetRawText()).ToList();
        var s2 = e2.TakeWhile(e => e.GetProperty("seq").GetInt64() <= last).Select(e => e.GetRawText()).ToList();
        Assert.Equal(s1, s2);
        Assert.Equal(Enumerable.Range(1, s1.Count).Select(i => (long)i), e1.Take(s1.Count).Select(e => e.GetProperty("seq").GetInt64()));

        // Streamed events are framed by hand, session/events goes through the serializer: the same
        // events must agree field by field (the timestamp included).
        var stored = (await c2.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["limit"] = 200 })).GetProperty("events").EnumerateArray().ToList();
        Assert.NotEmpty(stored);
        foreach (var s in stored)
        {
            var streamed = e2.Single(e => e.GetProperty("seq").GetInt64() == s.GetProperty("seq").GetInt64());
            Assert.Equal(s.EnumerateObject().Select(p => (p.Name, p.Value.GetRawText())), streamed.EnumerateObject().Select(p => (p.Name, p.Value.GetRawText())));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", s.GetProperty("ts").GetString());
        }

        var text = Output(e2);
        // Every line, once, in order (bash may put mode switches in front of the first one).
        var seen = System.Text.RegularExpressions.Regex.Matches(text, @"line-(\d+)\r\n").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(Enumerable.Range(1, 10000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen);
    }

    [Fact(Timeout = 60000)]
    public async Task Worker_ExitingAndStopped_ReportTheirExit()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var (sid, _) = await StartShellAsync(c, Workspace);
        var attach = await AttachAsync(c, sid);

        var t1 = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["kind"] = "terminal", ["command"] = "bash", ["args"] = new JsonArray("--norc", "--noprofile") });
        var w1 = t1.GetProperty("id").GetString()!;
        Assert.Equal("terminal", t1.GetProperty("kind").GetString());
        await TypeAsync(c, w1, "exit 7\r");
        var events = await c.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "exit" && x.GetProperty("workerId").GetString() == w1), Wait);
        Assert.Equal(7, events.Single(x => x.GetProperty("type").GetString() == "exit").GetProperty("data").GetProperty("exitCode").GetInt32());

        var t2 = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sleep", ["args"] = new JsonArray("1000") });
        var w2 = t2.GetProperty("id").GetString()!;
        var pid = t2.GetProperty("pid").GetInt32();
        var stopped = await c.RequestAsync("worker/stop", new JsonObject { ["workerId"] = w2 });
        Assert.Equal("exited", stopped.GetProperty("status").GetString());
        Assert.Equal(1, stopped.GetProperty("signal").GetInt32()); // SIGHUP
        Assert.False(Directory.Exists($"/proc/{pid}"));

        // The session itself (its agent shell) is still running.
        var s = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("active", s.GetProperty("status").GetString());
        var err = await Assert.ThrowsAsync<RpcErrorException>(() => TypeAsync(c, w2, "x"));
        Assert.Equal(1004, err.Code);
    }

    [Fact(Timeout = 60000)]
    public async Task Shutdown_LeavesNoChildProcessAlive_AndSuspendsTheSessions()
    {
        var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var (sid, wid) = await StartShellAsync(c, Workspace);
        await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash", ["args"] = new JsonArray("--norc", "-c", "sleep 1000 & sleep 1000") });
        var workers = (await c.RequestAsync("worker/list", new JsonObject { ["sessionId"] = sid })).GetProperty("workers");
        var pids = workers.EnumerateArray().Select(w => w.GetProperty("pid").GetInt32()).ToList();
        Assert.Equal(2, pids.Count);
        await TypeAsync(c, wid, "sleep 1001 &\r");

        // Both workers' background sleeps run before the shutdown.
        var deadline = DateTime.UtcNow + Wait;
        List<int> descendants;
        while (true)
        {
            descendants = pids.SelectMany(Descendants).ToList();
            var commands = descendants.Select(CommandLine).ToList();
            if (commands.Contains("sleep 1001") && commands.Contains("sleep 1000"))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the background sleeps never ran; descendants: {string.Join(", ", commands)}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        await sidecar.ShutdownAsync();
        Assert.Equal(0, await sidecar.WaitForExitAsync(Wait));
        foreach (var pid in pids.Concat(descendants))
        {
            Assert.False(IsAlive(pid), $"process {pid} survived the sidecar");
        }

        await sidecar.DisposeAsync();
        await using var again = await SidecarProcess.StartAsync(DataDir);
        var s = await again.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("suspended", s.GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task Restart_OnTheSameDataDirectory_ReadsTheSameHistoryBack()
    {
        string sid;
        List<string> before;
        await using (var sidecar = await SidecarProcess.StartAsync(DataDir))
        {
            var c = sidecar.Client;
            (sid, var wid) = await StartShellAsync(c, Workspace);
            var attach = await AttachAsync(c, sid);
            await TypeAsync(c, wid, "echo persisted-$((2*21))\r");
            await c.WaitForEventsAsync(attach, e => Output(e).Contains("persisted-42\r\n", StringComparison.Ordinal), Wait);
            await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = sid });
            before = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["limit"] = 10000 })).GetProperty("events").EnumerateArray().Select(e => e.GetRawText()).ToList();
        }

        await using var restarted = await SidecarProcess.StartAsync(DataDir);
        var c2 = restarted.Client;
        var list = await c2.RequestAsync("session/list", new JsonObject { ["workspace"] = Workspace });
        var s = list.GetProperty("sessions").EnumerateArray().Single(x => x.GetProperty("id").GetString() == sid);
        Assert.Equal("completed", s.GetProperty("status").GetString());
        var after = (await c2.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["limit"] = 10000 })).GetProperty("events").EnumerateArray().Select(e => e.GetRawText()).ToList();
        Assert.Equal(before, after);
        Assert.Contains("persisted-42", Output((await c2.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid })).GetProperty("events").EnumerateArray()), StringComparison.Ordinal);

        // Replay through an attachment gives the same events too.
        var attach2 = await AttachAsync(c2, sid);
        var replayed = await c2.WaitForEventsAsync(attach2, e => e.Count >= after.Count, Wait);
        Assert.Equal(after, replayed.Select(e => e.GetRawText()).ToList());
    }

    [Fact(Timeout = 60000)]
    public async Task Reuse_ReturnsTheLiveSessionForTheSameKey_UnlessReuseIsFalse()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var (sid, _) = await StartShellAsync(c, Workspace);
        var again = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = Workspace, ["provider"] = "shell" });
        Assert.Equal(sid, again.GetProperty("id").GetString());
        var fresh = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = Workspace, ["provider"] = "shell", ["reuse"] = false });
        Assert.NotEqual(sid, fresh.GetProperty("id").GetString());
        var list = await c.RequestAsync("session/list", new JsonObject { ["status"] = new JsonArray("active"), ["limit"] = 1 });
        Assert.Single(list.GetProperty("sessions").EnumerateArray());
        var cursor = list.GetProperty("nextCursor").GetString();
        var page2 = await c.RequestAsync("session/list", new JsonObject { ["status"] = new JsonArray("active"), ["limit"] = 1, ["cursor"] = cursor });
        Assert.Single(page2.GetProperty("sessions").EnumerateArray());
        Assert.NotEqual(list.GetProperty("sessions")[0].GetProperty("id").GetString(), page2.GetProperty("sessions")[0].GetProperty("id").GetString());
    }

    internal static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The command line of <paramref name="pid"/>, arguments joined by spaces ("" if it is gone).</summary>
    internal static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    internal static List<int> Descendants(int pid)
    {
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var p))
            {
                try
                {
                    var stat = File.ReadAllText($"/proc/{p}/stat");
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == pid)
                    {
                        result.Add(p);
                        result.AddRange(Descendants(p));
                    }
                }
                catch (IOException)
                {
                }
            }
        }

        return result;
    }
}
