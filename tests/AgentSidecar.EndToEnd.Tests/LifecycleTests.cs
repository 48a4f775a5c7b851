using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>Suspend and resume (also across a SIGKILL of the sidecar), reset, cleanup, task ids and worktrees, with bash and the scripted fake agent.</summary>
public sealed class LifecycleTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-life-").FullName;
    /// <summary>The data directory: a folder of its own in the test's folder (HOME sits beside it).</summary>
    private string DataDir => Path.Combine(_dir, "data");

    public LifecycleTests()
    {
        Workspace = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(Workspace);
    }

    private string Workspace { get; }

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

    internal static JsonObject Options()
    {
        var fake = ChatTests.FakeProfile();
        fake["quit"] = "/quit";
        return new JsonObject { ["providers"] = new JsonObject { ["fake"] = fake } };
    }

    private Task<SidecarProcess> StartSidecarAsync() => SidecarProcess.StartAsync(DataDir, initializationOptions: Options());

    private static string Output(IEnumerable<JsonElement> events, string? workerId = null) =>
        string.Concat(events
            .Where(e => e.GetProperty("channel").GetString() == "pty" && e.GetProperty("type").GetString() == "output"
                && (workerId is null || e.GetProperty("workerId").GetString() == workerId))
            .Select(e => e.GetProperty("data").GetProperty("data").GetString()));

    private static async Task<string> AttachAsync(RpcClient c, string sessionId, long afterSeq = 0) =>
        (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sessionId, ["afterSeq"] = afterSeq })).GetProperty("attachId").GetString()!;

    private static async Task<int> ErrorCodeAsync(RpcClient c, string method, JsonNode? p)
    {
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync(method, p));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        return ex.Code;
    }

    private static async Task<JsonElement> StartAsync(RpcClient c, string workspace, string provider, string? taskId = null, string kind = "quick")
    {
        var p = new JsonObject { ["workspace"] = workspace, ["provider"] = provider, ["kind"] = kind, ["reuse"] = false };
        if (taskId is not null)
        {
            p["taskId"] = taskId;
        }

        return await c.RequestAsync("session/start", p, Wait);
    }

    private static JsonObject Id(string sessionId) => new() { ["sessionId"] = sessionId };

    /// <summary>Slack between this process's clock and the sidecar's when comparing with event times.</summary>
    private static readonly TimeSpan ClockMargin = TimeSpan.FromMilliseconds(200);

    /// <summary>Waits until the newest event of <paramref name="sessionId"/> is older than <paramref name="quiet"/>: it has been idle that long.</summary>
    private static async Task WaitUntilQuietAsync(RpcClient c, string sessionId, TimeSpan quiet)
    {
        var deadline = DateTimeOffset.UtcNow + Wait;
        while (true)
        {
            var events = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sessionId, ["limit"] = 10000 })).GetProperty("events");
            var newest = events.EnumerateArray().Max(e => e.GetProperty("ts").GetDateTimeOffset());
            if (DateTimeOffset.UtcNow - newest > quiet)
            {
                return;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"session {sessionId} never went {quiet.TotalSeconds} s without an event (newest at {newest:O})");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static string Status(JsonElement session) => session.GetProperty("status").GetString()!;

    private static async Task<string> RunInShellAsync(RpcClient c, string sessionId, string workerId, string command, string marker)
    {
        var attach = await AttachAsync(c, sessionId);
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = workerId, ["data"] = command + "\r" });
        var events = await c.WaitForEventsAsync(attach, e => Output(e, workerId).Contains(marker, StringComparison.Ordinal), Wait);
        await c.RequestAsync("session/detach", new JsonObject { ["attachId"] = attach });
        return Output(events, workerId);
    }

    [Fact(Timeout = 120000)]
    public async Task Suspend_ThenResume_StartsTheAgentAndItsShellsAgain_WithTheSameWorkerIds()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var s = await StartAsync(c, Workspace, "fake", taskId: "TASK-7");
        var sid = s.GetProperty("id").GetString()!;
        var agentId = s.GetProperty("workers")[0].GetProperty("id").GetString()!;
        var sub = Path.Combine(Workspace, "sub");
        Directory.CreateDirectory(sub);
        var shell = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["kind"] = "terminal", ["cwd"] = sub });
        var shellId = shell.GetProperty("id").GetString()!;
        var agentPid = s.GetProperty("workers")[0].GetProperty("pid").GetInt32();
        Assert.Equal("completed", (await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "before" }, Wait)).GetProperty("status").GetString());

        var suspended = await c.RequestAsync("session/suspend", Id(sid), Wait);
        Assert.Equal("suspended", Status(suspended));
        Assert.All(suspended.GetProperty("workers").EnumerateArray(), w => Assert.Equal("exited", w.GetProperty("status").GetString()));
        Assert.False(Directory.Exists($"/proc/{agentPid}") && File.ReadAllText($"/proc/{agentPid}/stat").Contains("fake-agent", StringComparison.Ordinal));

        // The agent quit by its own command (exit code 0), not by a signal.
        var agentAfter = suspended.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("id").GetString() == agentId);
        Assert.Equal(0, agentAfter.GetProperty("exitCode").GetInt32());

        Assert.Equal(1004, await ErrorCodeAsync(c, "session/suspend", Id(sid)));
        Assert.Equal(1004, await ErrorCodeAsync(c, "chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "x" }));

        var resumed = await c.RequestAsync("session/resume", Id(sid), Wait);
        Assert.Equal("active", Status(resumed));
        Assert.Equal("TASK-7", resumed.GetProperty("taskId").GetString());
        var workers = resumed.GetProperty("workers").EnumerateArray().ToList();
        var ids = workers.Select(w => w.GetProperty("id").GetString()).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Contains(agentId, ids);
        Assert.Contains(shellId, ids);
        Assert.All(workers, w => Assert.Equal("running", w.GetProperty("status").GetString()));
        Assert.NotEqual(agentPid, workers.Single(w => w.GetProperty("id").GetString() == agentId).GetProperty("pid").GetInt32());

        // The shell runs again where it ran; the agent answers again.
        var text = await RunInShellAsync(c, sid, shellId, "echo cwd=$(pwd)", $"cwd={sub}");
        Assert.Contains($"cwd={sub}", text, StringComparison.Ordinal);
        var answer = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "after" }, Wait);
        Assert.Equal("completed", answer.GetProperty("status").GetString());
        Assert.Contains("after", answer.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(1004, await ErrorCodeAsync(c, "session/resume", Id(sid)));

        // The log tells the story: suspended, then active again with a new START; the metrics carry the task id.
        var events = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("system", "metrics"), ["limit"] = 1000 })).GetProperty("events").EnumerateArray().ToList();
        var statuses = events.Where(e => e.GetProperty("type").GetString() == "status").Select(e => e.GetProperty("data").GetProperty("status").GetString()).ToList();
        Assert.Equal(["created", "active", "suspended", "active"], statuses);
        var metrics = events.Where(e => e.GetProperty("channel").GetString() == "metrics").ToList();
        Assert.Equal(["start", "end", "start"], metrics.Where(e => e.GetProperty("type").GetString() != "usage").Select(e => e.GetProperty("type").GetString()).ToList());
        Assert.Equal("suspend", metrics.First(e => e.GetProperty("type").GetString() == "end").GetProperty("data").GetProperty("reason").GetString());
        Assert.All(metrics, m => Assert.Equal("TASK-7", m.GetProperty("data").GetProperty("taskId").GetString()));

        // Ending it now ends it for good.
        Assert.Equal("completed", Status(await c.RequestAsync("session/end", Id(sid), Wait)));
        Assert.Equal(1004, await ErrorCodeAsync(c, "session/resume", Id(sid)));
    }

    [Fact(Timeout = 60000)]
    public async Task Resume_WhenTheWorkspaceIsGone_Is1006_AndTheSessionStaysSuspended()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var gone = Path.Combine(_dir, "gone");
        Directory.CreateDirectory(gone);
        var sid = (await StartAsync(c, gone, "shell")).GetProperty("id").GetString()!;
        await c.RequestAsync("session/suspend", Id(sid), Wait);
        Directory.Delete(gone);
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/resume", Id(sid), Wait));
        Assert.Equal(1006, ex.Code);
        Assert.Contains(gone, ex.Message, StringComparison.Ordinal);
        Assert.Equal("suspended", Status(await c.RequestAsync("session/get", Id(sid))));
        Assert.Equal(1001, await ErrorCodeAsync(c, "session/resume", Id("no-such-session")));
        Assert.Equal(-32602, await ErrorCodeAsync(c, "session/resume", new JsonObject()));
    }

    [Fact(Timeout = 60000)]
    public async Task Suspend_DuringATurn_Is1003_AndChangesNothing()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = (await StartAsync(c, Workspace, "fake")).GetProperty("id").GetString()!;
        var turn = c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "slow one" }, Wait);
        await c.WaitForNotificationAsync(n => n.GetProperty("method").GetString() == "session/changed" && n.GetProperty("params").GetProperty("session").GetProperty("busy").GetBoolean(), Wait);
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/suspend", Id(sid)));
        Assert.Equal(1003, ex.Code);
        Assert.Contains("chat/cancel", ex.Message, StringComparison.Ordinal);
        Assert.Equal("completed", (await turn).GetProperty("status").GetString());
        Assert.Equal("active", Status(await c.RequestAsync("session/get", Id(sid))));
    }

    [Fact(Timeout = 120000)]
    public async Task SigkillOfTheSidecar_LeavesNoProcess_AndTheSessionsComeBackResumable()
    {
        var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var shellSession = await StartAsync(c, Workspace, "shell");
        var shellSid = shellSession.GetProperty("id").GetString()!;
        var extra = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = shellSid, ["kind"] = "terminal" });
        var agentSession = await StartAsync(c, Workspace, "fake");
        var agentSid = agentSession.GetProperty("id").GetString()!;

        // A background job in the shell's session must go too (the whole session and group are killed).
        var bgMarker = $"bg-{Guid.NewGuid():N}";
        await RunInShellAsync(c, shellSid, shellSession.GetProperty("workers")[0].GetProperty("id").GetString()!, $"(exec -a {bgMarker} sleep 300) & echo started-bg", "started-bg\r\n");
        var pids = new[] { shellSession, agentSession }.SelectMany(s => s.GetProperty("workers").EnumerateArray()).Select(w => w.GetProperty("pid").GetInt32())
            .Append(extra.GetProperty("pid").GetInt32()).ToList();
        var starts = pids.ToDictionary(p => p, ProcFs.StartTime);
        Assert.All(starts.Values, v => Assert.NotNull(v));
        // The subshell execs the marked sleep a moment after the echo: wait for it to be there.
        for (var i = 0; i < 100 && ProcFs.ProcessesNamed(bgMarker).Count == 0; i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.NotEmpty(ProcFs.ProcessesNamed(bgMarker));

        sidecar.Kill();
        await sidecar.WaitForExitAsync(Wait);
        await sidecar.DisposeAsync();

        await using var second = await StartSidecarAsync();
        var c2 = second.Client;
        foreach (var pid in pids)
        {
            Assert.True(ProcFs.StartTime(pid) != starts[pid], $"process {pid} of the killed sidecar is still alive");
        }

        Assert.Empty(ProcFs.ProcessesNamed(bgMarker));
        foreach (var sid in new[] { shellSid, agentSid })
        {
            var s = await c2.RequestAsync("session/get", Id(sid));
            Assert.Equal("suspended", Status(s));
            Assert.Equal("owner-lost", s.GetProperty("statusReason").GetString());
            Assert.All(s.GetProperty("workers").EnumerateArray(), w => Assert.Equal("exited", w.GetProperty("status").GetString()));
        }

        var resumed = await c2.RequestAsync("session/resume", Id(shellSid), Wait);
        Assert.Equal("active", Status(resumed));
        Assert.Equal(2, resumed.GetProperty("workers").GetArrayLength());
        Assert.Equal("active", Status(await c2.RequestAsync("session/resume", Id(agentSid), Wait)));
        Assert.Equal("completed", (await c2.RequestAsync("chat/send", new JsonObject { ["sessionId"] = agentSid, ["text"] = "hi again" }, Wait)).GetProperty("status").GetString());
    }

    [Fact(Timeout = 120000)]
    public async Task SigKillDuringAChatTurn_TheNextSidecarEndsThatTurnAsFailed_OwnerLost()
    {
        var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var session = await StartAsync(c, Workspace, "fake");
        var sid = session.GetProperty("id").GetString()!;
        var attach = await AttachAsync(c, sid);
        // "slow" answers ten words 0.3 s apart: the turn runs for 3 s.
        _ = c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "slow one two three" }, Wait);
        var seen = await c.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("channel").GetString() == "chat" && x.GetProperty("type").GetString() == "user"), Wait);
        var turnId = seen.First(x => x.GetProperty("channel").GetString() == "chat" && x.GetProperty("type").GetString() == "user").GetProperty("data").GetProperty("turnId").GetString();
        sidecar.Kill();
        await sidecar.WaitForExitAsync(Wait);
        await sidecar.DisposeAsync();

        await using var second = await StartSidecarAsync();
        var c2 = second.Client;
        Assert.Equal("owner-lost", (await c2.RequestAsync("session/get", Id(sid))).GetProperty("statusReason").GetString());
        var log = await c2.WaitForEventsAsync(await AttachAsync(c2, sid), e => e.Any(x => x.GetProperty("type").GetString() == "status" && x.GetProperty("data").GetProperty("status").GetString() == "suspended"), Wait);
        var chat = log.Where(x => x.GetProperty("channel").GetString() == "chat").ToList();
        var end = chat[^1];
        Assert.Equal("turn", end.GetProperty("type").GetString());
        Assert.Equal(turnId, end.GetProperty("data").GetProperty("turnId").GetString());
        Assert.Equal("failed", end.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("owner-lost", end.GetProperty("data").GetProperty("reason").GetString());
        Assert.Single(chat, x => x.GetProperty("type").GetString() == "turn");

        // Resumed, the session takes a new turn as usual.
        Assert.Equal("active", Status(await c2.RequestAsync("session/resume", Id(sid), Wait)));
        Assert.Equal("completed", (await c2.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "hi again" }, Wait)).GetProperty("status").GetString());
    }

    [Fact(Timeout = 120000)]
    public async Task Initialize_AnswersOnlyAfterTheOrphansAreRecovered_OnStdioAndOnTheSocket()
    {
        // The store opens and the orphans are recovered in the background while the RPC layer
        // starts, and the socket listens before that is done. A client that sends a request right
        // behind initialize (on stdio or on the socket) must find the orphan suspended, never active.
        var first = await SidecarProcess.StartAsync(DataDir);
        var orphan = (await StartAsync(first.Client, Workspace, "shell")).GetProperty("id").GetString()!;
        first.Kill();
        await first.WaitForExitAsync(Wait);
        await first.DisposeAsync();

        // Holding the write lock holds the recovery back (the sidecar waits up to its 5 s busy
        // timeout), so requests that did not wait for it would be answered meanwhile.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var locker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(DataDir, "sidecar.db")};Pooling=False");
        locker.Open();
        using (var begin = locker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        await using var second = await SidecarProcess.StartAsync(DataDir, initialize: false);
        var socketPath = Path.Combine(DataDir, "run", $"sidecar-{second.Pid}.sock");
        for (var i = 0; i < 1000 && !File.Exists(socketPath); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath), TestContext.Current.CancellationToken);
        var stream = new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        using var viaSocket = new RpcClient(stream, stream);
        var requests = new List<(Task<JsonElement> Initialize, Task<JsonElement> Get)>();
        foreach (var client in new[] { viaSocket, second.Client })
        {
            // Not awaited: the get goes out right behind the initialize.
            var init = client.RequestAsync("initialize", new JsonObject(), Wait);
            requests.Add((init, client.RequestAsync("session/get", Id(orphan), Wait)));
        }

        // Give a build that answers too early the time to show it, then let the recovery finish.
        // Kept as a bounded wait: the right behaviour is silence while the lock is held, and nothing
        // observable marks the moment a wrong build would have answered (initialize runs inline, so
        // no later request on these connections is read, let alone answered, before it returns).
        await Task.WhenAny(Task.WhenAny(requests.Select(r => r.Get)), Task.Delay(1000, TestContext.Current.CancellationToken));
        locker.Dispose();

        foreach (var (init, get) in requests)
        {
            Assert.True((await init).TryGetProperty("serverInfo", out _));
            var s = await get;
            Assert.Equal("suspended", Status(s));
            Assert.Equal("owner-lost", s.GetProperty("statusReason").GetString());
        }
    }

    [Fact(Timeout = 120000)]
    public async Task Reset_WithABusySession_Is1003AndEndsNone_ThenEndsAllOfTheWorkspace()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var other = Path.Combine(_dir, "other");
        Directory.CreateDirectory(other);
        var fake = (await StartAsync(c, Workspace, "fake")).GetProperty("id").GetString()!;
        var shell = (await StartAsync(c, Workspace, "shell")).GetProperty("id").GetString()!;
        var elsewhere = (await StartAsync(c, other, "shell")).GetProperty("id").GetString()!;

        var turn = c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = fake, ["text"] = "slow please" }, Wait);
        await c.WaitForNotificationAsync(n => n.GetProperty("method").GetString() == "session/changed" && n.GetProperty("params").GetProperty("session").GetProperty("busy").GetBoolean(), Wait);
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/reset", new JsonObject { ["workspace"] = Workspace }));
        Assert.Equal(1003, ex.Code);
        Assert.Contains(fake, ex.Message, StringComparison.Ordinal);
        Assert.Equal(fake, ex.ErrorData!.Value.GetProperty("busy")[0].GetString());
        foreach (var sid in new[] { fake, shell, elsewhere })
        {
            Assert.Equal("active", Status(await c.RequestAsync("session/get", Id(sid))));
        }

        Assert.Equal("completed", (await turn).GetProperty("status").GetString());

        // Only one provider first, then the rest; the other workspace is untouched.
        var shellOnly = await c.RequestAsync("session/reset", new JsonObject { ["workspace"] = Workspace, ["provider"] = "shell" }, Wait);
        Assert.Equal([shell], shellOnly.GetProperty("ended").EnumerateArray().Select(e => e.GetString()).ToList());
        var all = await c.RequestAsync("session/reset", new JsonObject { ["workspace"] = Workspace }, Wait);
        Assert.Equal([fake], all.GetProperty("ended").EnumerateArray().Select(e => e.GetString()).ToList());
        var ended = await c.RequestAsync("session/get", Id(fake));
        Assert.Equal("completed", Status(ended));
        Assert.Equal("reset", ended.GetProperty("statusReason").GetString());
        Assert.Equal("active", Status(await c.RequestAsync("session/get", Id(elsewhere))));
        var endMetric = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = fake, ["channels"] = new JsonArray("metrics") })).GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "end");
        Assert.Equal("reset", endMetric.GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal(-32602, await ErrorCodeAsync(c, "session/reset", new JsonObject()));
        Assert.Equal(1006, await ErrorCodeAsync(c, "session/reset", new JsonObject { ["workspace"] = "relative" }));
    }

    [Fact(Timeout = 60000)]
    public async Task Cleanup_SuspendsIdleSessions_AndPurgesOldEndedOnes()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var idle = await StartAsync(c, Workspace, "shell");
        var idleSid = idle.GetProperty("id").GetString()!;
        var done = (await StartAsync(c, Workspace, "shell")).GetProperty("id").GetString()!;
        await c.RequestAsync("session/end", Id(done), Wait);
        await WaitUntilQuietAsync(c, idleSid, TimeSpan.FromSeconds(1) + ClockMargin);

        // A session that just printed something is not idle.
        var busy = await StartAsync(c, Workspace, "shell");
        var busySid = busy.GetProperty("id").GetString()!;
        await RunInShellAsync(c, busySid, busy.GetProperty("workers")[0].GetProperty("id").GetString()!, "echo still-$((2+3))", "still-5");

        var result = await c.RequestAsync("session/cleanup", new JsonObject { ["idleSeconds"] = 1, ["purgeOlderThanDays"] = 0 }, Wait);
        Assert.Equal([idleSid], result.GetProperty("ended").EnumerateArray().Select(e => e.GetString()).ToList());
        Assert.Equal([done], result.GetProperty("purged").EnumerateArray().Select(e => e.GetString()).ToList());
        var s = await c.RequestAsync("session/get", Id(idleSid));
        Assert.Equal("suspended", Status(s));
        Assert.Equal("idle", s.GetProperty("statusReason").GetString());
        Assert.Equal("active", Status(await c.RequestAsync("session/get", Id(busySid))));
        Assert.Equal(1001, await ErrorCodeAsync(c, "session/get", Id(done)));
        var end = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = idleSid, ["channels"] = new JsonArray("metrics") })).GetProperty("events").EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "end");
        Assert.Equal("cleanup", end.GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal(-32602, await ErrorCodeAsync(c, "session/cleanup", new JsonObject { ["idleSeconds"] = -1 }));
    }

    [Fact(Timeout = 60000)]
    public async Task TaskIds_FilterTheList_AndStayAcrossAClear()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var a = (await StartAsync(c, Workspace, "fake", taskId: "JIRA-1")).GetProperty("id").GetString()!;
        _ = await StartAsync(c, Workspace, "shell", taskId: "JIRA-2");
        var cleared = await c.RequestAsync("session/clear", Id(a), Wait);
        var current = cleared.GetProperty("current");
        Assert.Equal("JIRA-1", current.GetProperty("taskId").GetString());
        var list = await c.RequestAsync("session/list", new JsonObject { ["taskId"] = "JIRA-1" });
        var ids = list.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Contains(a, ids);
        Assert.Contains(current.GetProperty("id").GetString(), ids);
        var start = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = current.GetProperty("id").GetString(), ["channels"] = new JsonArray("metrics") })).GetProperty("events")[0];
        Assert.Equal("JIRA-1", start.GetProperty("data").GetProperty("taskId").GetString());
    }

    [Fact(Timeout = 90000)]
    public async Task WorktreeSession_RunsInItsOwnWorktree_RemovedWhenClean_KeptWhenNot()
    {
        var repo = Path.Combine(_dir, "repo");
        Directory.CreateDirectory(repo);
        Git(repo, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(repo, "README"), "hello\n");
        Git(repo, "add", "README");
        Git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "first");

        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        Assert.Equal(1006, await ErrorCodeAsync(c, "session/start", new JsonObject { ["workspace"] = Workspace, ["provider"] = "shell", ["kind"] = "worktree" }));

        var s = await StartAsync(c, repo, "shell", kind: "worktree");
        var sid = s.GetProperty("id").GetString()!;
        var wt = s.GetProperty("worktree");
        var path = wt.GetProperty("path").GetString()!;
        var branch = wt.GetProperty("branch").GetString()!;
        Assert.Equal("worktree", s.GetProperty("kind").GetString());
        Assert.Equal(repo, s.GetProperty("workspace").GetString());
        Assert.NotEqual(repo, path);
        Assert.True(File.Exists(Path.Combine(path, "README")));
        Assert.Contains(branch, Git(repo, "branch", "--list"), StringComparison.Ordinal);
        var wid = s.GetProperty("workers")[0].GetProperty("id").GetString()!;
        Assert.Contains($"in={path}", await RunInShellAsync(c, sid, wid, "echo in=$(pwd)", $"in={path}"), StringComparison.Ordinal);

        var ended = await c.RequestAsync("session/end", Id(sid), Wait);
        Assert.Equal("removed", ended.GetProperty("worktree").GetProperty("state").GetString());
        Assert.False(Directory.Exists(path));
        Assert.DoesNotContain(branch, Git(repo, "branch", "--list"), StringComparison.Ordinal);

        // A worktree with the agent's uncommitted work is kept, and the end says so.
        var dirty = await StartAsync(c, repo, "shell", kind: "worktree");
        var dirtyPath = dirty.GetProperty("worktree").GetProperty("path").GetString()!;
        File.WriteAllText(Path.Combine(dirtyPath, "work.txt"), "unsaved\n");
        var dirtySid = dirty.GetProperty("id").GetString()!;
        var kept = await c.RequestAsync("session/end", Id(dirtySid), Wait);
        Assert.Equal("kept", kept.GetProperty("worktree").GetProperty("state").GetString());
        Assert.True(File.Exists(Path.Combine(dirtyPath, "work.txt")));
        var ev = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = dirtySid, ["channels"] = new JsonArray("system") })).GetProperty("events").EnumerateArray()
            .Last(e => e.GetProperty("type").GetString() == "worktree");
        Assert.Equal("kept", ev.GetProperty("data").GetProperty("action").GetString());
        Assert.Contains("uncommitted", ev.GetProperty("data").GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    internal static string Git(string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
        return output;
    }
}
