using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// The smaller lifecycle gaps of issue 17 (part 5), against the built sidecar: <c>worker/start</c>'s
/// <c>env</c>, unique worker names, the session context variables (also after a <c>/clear</c>), and
/// <c>session/setTaskId</c> (also from the CLI).
/// </summary>
public sealed partial class WorkerContextTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-wctx-").FullName;

    public WorkerContextTests()
    {
        Workspace = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(Workspace);
    }

    private string Workspace { get; }

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

    private static JsonObject Id(string sessionId) => new() { ["sessionId"] = sessionId };

    private Task<SidecarProcess> StartSidecarAsync() => SidecarProcess.StartAsync(DataDir, initializationOptions: LifecycleTests.Options());

    private async Task<string> StartFakeAsync(RpcClient c, string? taskId)
    {
        var p = new JsonObject { ["workspace"] = Workspace, ["provider"] = "fake", ["reuse"] = false };
        if (taskId is not null)
        {
            p["taskId"] = taskId;
        }

        return (await c.RequestAsync("session/start", p, Wait)).GetProperty("id").GetString()!;
    }

    /// <summary>A terminal that prints what its environment says, then stays running (cat).</summary>
    private static JsonObject Printer(string sessionId, string? name = null, JsonObject? env = null)
    {
        var p = new JsonObject
        {
            ["sessionId"] = sessionId,
            ["command"] = "bash",
            ["args"] = new JsonArray("--norc", "-c", "printf 'FOO=[%s] SID=[%s] TASK=[%s] END\\n' \"$FOO\" \"$AGENT_SIDECAR_SESSION_ID\" \"$AGENT_SIDECAR_TASK_ID\"; exec cat"),
        };
        if (name is not null)
        {
            p["name"] = name;
        }

        if (env is not null)
        {
            p["env"] = env;
        }

        return p;
    }

    /// <summary>Starts a printer and waits for its line in the session's log: (FOO, SID, TASK).</summary>
    private static async Task<(string Foo, string Sid, string Task, string WorkerId)> PrintedAsync(RpcClient c, JsonObject printer)
    {
        var sessionId = printer["sessionId"]!.GetValue<string>();
        var worker = await c.RequestAsync("worker/start", printer, Wait);
        var workerId = worker.GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var events = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sessionId, ["channels"] = new JsonArray("pty"), ["limit"] = 10000 })).GetProperty("events");
            var output = string.Concat(events.EnumerateArray()
                .Where(e => e.GetProperty("type").GetString() == "output" && e.GetProperty("workerId").GetString() == workerId)
                .Select(e => e.GetProperty("data").GetProperty("data").GetString()));
            if (PrintedLine().Match(output) is { Success: true } m)
            {
                return (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, workerId);
            }

            Assert.True(DateTime.UtcNow < deadline, $"worker {workerId} printed no environment line; its output: {output}");
            await Task.Delay(20);
        }
    }

    [GeneratedRegex(@"FOO=\[(.*?)\] SID=\[(.*?)\] TASK=\[(.*?)\] END")]
    private static partial Regex PrintedLine();

    private static async Task<RpcErrorException> ErrorAsync(RpcClient c, string method, JsonNode p)
    {
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync(method, p, Wait));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        return ex;
    }

    [Fact(Timeout = 60000)]
    public async Task WorkerStart_Env_IsAddedToTheWorkersEnvironment_ButNeverOverTheSessionContext()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartFakeAsync(c, "T-1");
        var (foo, printedSid, task, _) = await PrintedAsync(c, Printer(sid, env: new JsonObject { ["FOO"] = "x y=z", ["AGENT_SIDECAR_SESSION_ID"] = "spoofed" }));
        Assert.Equal("x y=z", foo);
        Assert.Equal(sid, printedSid);
        Assert.Equal("T-1", task);

        // Bad names and values: -32602 naming env, and nothing started.
        foreach (var env in new[] { new JsonObject { ["A=B"] = "x" }, new JsonObject { [""] = "x" }, new JsonObject { ["A\0B"] = "x" }, new JsonObject { ["A"] = "x\0y" }, new JsonObject { ["A"] = 1 } })
        {
            var before = (await c.RequestAsync("worker/list", Id(sid))).GetProperty("workers").GetArrayLength();
            var ex = await ErrorAsync(c, "worker/start", Printer(sid, env: env));
            Assert.Equal(-32602, ex.Code);
            Assert.Equal("env", ex.ErrorData!.Value.GetProperty("field").GetString());
            Assert.Equal(before, (await c.RequestAsync("worker/list", Id(sid))).GetProperty("workers").GetArrayLength());
        }
    }

    [Fact(Timeout = 60000)]
    public async Task WorkerStart_WithTheNameOfARunningWorker_Is1006_NamingTheClash_AndTheNameIsFreeOnceItStopped()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartFakeAsync(c, null);
        var first = (await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["name"] = "tests" }, Wait)).GetProperty("id").GetString()!;

        var ex = await ErrorAsync(c, "worker/start", new JsonObject { ["sessionId"] = sid, ["name"] = "tests" });
        Assert.Equal(1006, ex.Code);
        Assert.Contains("'tests'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(first, ex.Message, StringComparison.Ordinal);
        Assert.Equal("tests", ex.ErrorData!.Value.GetProperty("name").GetString());
        Assert.Equal(first, ex.ErrorData!.Value.GetProperty("workerId").GetString());
        Assert.Equal(2, (await c.RequestAsync("worker/list", Id(sid))).GetProperty("workers").GetArrayLength());

        // The agent's name counts too; default names never clash.
        var agentName = (await c.RequestAsync("session/get", Id(sid))).GetProperty("workers")[0].GetProperty("name").GetString()!;
        Assert.Equal(1006, (await ErrorAsync(c, "worker/start", new JsonObject { ["sessionId"] = sid, ["name"] = agentName })).Code);
        var a = (await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash" }, Wait)).GetProperty("name").GetString();
        var b = (await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash", ["name"] = "bash 4" }, Wait)).GetProperty("name").GetString();
        var d = (await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash" }, Wait)).GetProperty("name").GetString();
        Assert.Equal(new[] { "bash 2", "bash 4", "bash 5" }, new[] { a, b, d });

        await c.RequestAsync("worker/stop", new JsonObject { ["workerId"] = first }, Wait);
        Assert.Equal("tests", (await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["name"] = "tests" }, Wait)).GetProperty("name").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task SessionContext_AfterAClear_NewWorkersNameTheNewSession_AndTheTaskIdGoesOn()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartFakeAsync(c, "T-1");
        var (_, before, _, shellId) = await PrintedAsync(c, Printer(sid, "before"));
        Assert.Equal(sid, before);

        var cleared = await c.RequestAsync("session/clear", Id(sid), Wait);
        var next = cleared.GetProperty("current").GetProperty("id").GetString()!;
        var (_, after, task, _) = await PrintedAsync(c, Printer(next, "after"));
        Assert.Equal(next, after);
        Assert.Equal("T-1", task);

        // The shell started before the clear moved along with its id (AGENT_SIDECAR_WORKER_ID stays right).
        var workers = (await c.RequestAsync("worker/list", Id(next))).GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("id").GetString()).ToList();
        Assert.Contains(shellId, workers);
    }

    [Fact(Timeout = 60000)]
    public async Task SetTaskId_OnLiveAndEndedSessions_IsStored_ListedAndInTheNextMetrics_AndNullClearsIt()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartFakeAsync(c, null);

        var set = await c.RequestAsync("session/setTaskId", new JsonObject { ["sessionId"] = sid, ["taskId"] = "T-2" });
        Assert.Equal("T-2", set.GetProperty("taskId").GetString());
        Assert.Equal("T-2", (await c.RequestAsync("session/get", Id(sid))).GetProperty("taskId").GetString());
        var listed = await c.RequestAsync("session/list", new JsonObject { ["taskId"] = "T-2" });
        Assert.Equal(sid, listed.GetProperty("sessions").EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Equal("T-2", (await PrintedAsync(c, Printer(sid))).Task);

        // Cleared with null: gone from the row and from new workers.
        var cleared = await c.RequestAsync("session/setTaskId", new JsonObject { ["sessionId"] = sid, ["taskId"] = null });
        Assert.False(cleared.TryGetProperty("taskId", out _));
        Assert.Equal(string.Empty, (await PrintedAsync(c, Printer(sid))).Task);

        // Set again, then ended: the END record carries it; an ended session can still get one.
        await c.RequestAsync("session/setTaskId", new JsonObject { ["sessionId"] = sid, ["taskId"] = "T-3" });
        await c.RequestAsync("session/end", Id(sid), Wait);
        var end = (await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("metrics") })).GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "end");
        Assert.Equal("T-3", end.GetProperty("data").GetProperty("taskId").GetString());
        Assert.Equal("T-4", (await c.RequestAsync("session/setTaskId", new JsonObject { ["sessionId"] = sid, ["taskId"] = "T-4" })).GetProperty("taskId").GetString());
        Assert.Equal("T-4", (await c.RequestAsync("session/get", Id(sid))).GetProperty("taskId").GetString());

        // Errors: the field is required (null clears), a string or null, non-empty; unknown session 1001.
        foreach (var (p, code) in new (JsonObject, int)[]
        {
            (new JsonObject { ["sessionId"] = sid }, -32602),
            (new JsonObject { ["sessionId"] = sid, ["taskId"] = 7 }, -32602),
            (new JsonObject { ["sessionId"] = sid, ["taskId"] = "" }, -32602),
            (new JsonObject { ["taskId"] = "T" }, -32602),
            (new JsonObject { ["sessionId"] = "no-such-session", ["taskId"] = "T" }, 1001),
        })
        {
            var ex = await ErrorAsync(c, "session/setTaskId", p);
            Assert.Equal(code, ex.Code);
            if (code == -32602)
            {
                Assert.Equal(p.ContainsKey("sessionId") ? "taskId" : "sessionId", ex.ErrorData!.Value.GetProperty("field").GetString());
            }
        }

        Assert.Equal("T-4", (await c.RequestAsync("session/get", Id(sid))).GetProperty("taskId").GetString());
    }

    [Fact(Timeout = 90000)]
    public async Task Cli_SessionsTask_SetsAndClearsTheTaskId_ThroughTheOwningSidecar()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartFakeAsync(c, null);

        var set = await CliAsync("sessions", "task", sid, "JIRA-9");
        Assert.True(set.Code == 0, set.Stderr);
        Assert.Contains("JIRA-9", set.Stdout, StringComparison.Ordinal);
        Assert.Equal("JIRA-9", (await c.RequestAsync("session/get", Id(sid))).GetProperty("taskId").GetString());

        var clear = await CliAsync("sessions", "task", sid, "--clear", "--json");
        Assert.True(clear.Code == 0, clear.Stderr);
        Assert.False(JsonDocument.Parse(clear.Stdout).RootElement.TryGetProperty("taskId", out _));
        Assert.False((await c.RequestAsync("session/get", Id(sid))).TryGetProperty("taskId", out _));

        Assert.Equal(2, (await CliAsync("sessions", "task", sid)).Code);
        Assert.Equal(2, (await CliAsync("sessions", "task", sid, "X", "--clear")).Code);
        Assert.Equal(3, (await CliAsync("sessions", "task", "no-such-session", "X")).Code);
    }

    private async Task<CliTests.CliResult> CliAsync(params string[] args)
    {
        await using var run = CliTests.StartCliIn(_dir, DataDir, args);
        return await run.FinishAsync();
    }
}
