using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// <c>session/start</c> with <c>replaces</c> (another agent or model takes a session's place), against
/// the built sidecar, the scripted fake agent in real PTYs and a fake metrics receiver.
/// </summary>
public sealed class ReplacementTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-replace-").FullName;

    private string DataDir => Path.Combine(_dir, "data");

    private string Workspace => Path.Combine(_dir, "ws");

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

    private async Task<SidecarProcess> StartSidecarAsync(FakeMetricsReceiver? receiver = null)
    {
        Directory.CreateDirectory(Workspace);
        var options = new JsonObject
        {
            ["providers"] = new JsonObject
            {
                ["fake"] = ChatTests.FakeProfile(),
                ["other"] = ChatTests.FakeProfile(),
                // Exits before it is ready: a replacement that cannot start.
                ["broken"] = new JsonObject { ["command"] = "bash", ["args"] = new JsonArray("-c", "exit 3"), ["ready"] = new JsonObject { ["osc"] = "^7501;state=idle" }, ["features"] = new JsonArray("chat") },
            },
            ["metrics"] = receiver is null ? new JsonObject() : new JsonObject { ["endpoint"] = receiver.Url.ToString(), ["intervalSeconds"] = 300, ["backoffSeconds"] = 0.2 },
        };
        return await SidecarProcess.StartAsync(DataDir, initializationOptions: options);
    }

    private Task<JsonElement> StartAsync(RpcClient c, string provider, string? replaces = null, string? workspace = null, string? model = null, string? kind = null)
    {
        var p = new JsonObject { ["workspace"] = workspace ?? Workspace, ["provider"] = provider, ["reuse"] = false, ["taskId"] = "TASK-9" };
        if (replaces is not null)
        {
            p["replaces"] = replaces;
        }

        if (model is not null)
        {
            p["model"] = model;
        }

        if (kind is not null)
        {
            p["kind"] = kind;
        }

        return c.RequestAsync("session/start", p, Wait);
    }

    private static Task<JsonElement> GetAsync(RpcClient c, string id) => c.RequestAsync("session/get", new JsonObject { ["sessionId"] = id });

    private static Task<JsonElement> SendAsync(RpcClient c, string sid, string text) =>
        c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = text }, Wait);

    [Fact(Timeout = 90000)]
    public async Task Replaces_EndsTheOldSession_LinksTheNewOne_AndTheNewAgentAnswers()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var sidecar = await StartSidecarAsync(receiver);
        var c = sidecar.Client;
        var old = await StartAsync(c, "fake");
        var oldId = old.GetProperty("id").GetString()!;
        var oldAgent = old.GetProperty("workers")[0];
        var attach = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = oldId })).GetProperty("attachId").GetString()!;
        Assert.Equal("ECHO[1]:before", (await SendAsync(c, oldId, "before")).GetProperty("text").GetString());

        var fresh = await StartAsync(c, "other", replaces: oldId, model: "m2");
        var newId = fresh.GetProperty("id").GetString()!;
        Assert.Equal("active", fresh.GetProperty("status").GetString());
        Assert.Equal("other", fresh.GetProperty("provider").GetString());
        Assert.Equal("m2", fresh.GetProperty("model").GetString());
        Assert.Equal(oldId, fresh.GetProperty("transitionedFrom").GetString());
        Assert.Equal("TASK-9", fresh.GetProperty("taskId").GetString());
        Assert.NotEqual(oldAgent.GetProperty("pid").GetInt32(), fresh.GetProperty("workers")[0].GetProperty("pid").GetInt32());

        // The replaced session ended, linked to the new one; its agent no longer runs.
        var ended = await GetAsync(c, oldId);
        Assert.Equal("completed", ended.GetProperty("status").GetString());
        Assert.Equal("replaced", ended.GetProperty("statusReason").GetString());
        Assert.Equal(newId, ended.GetProperty("transitionedTo").GetString());
        Assert.Equal("exited", ended.GetProperty("workers")[0].GetProperty("status").GetString());
        Assert.Null(ProcFs.StartTime(oldAgent.GetProperty("pid").GetInt32()));
        var note = await c.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/transitioned", Wait);
        Assert.Equal(oldId, note.GetProperty("params").GetProperty("previous").GetProperty("id").GetString());
        Assert.Equal(newId, note.GetProperty("params").GetProperty("current").GetProperty("id").GetString());

        // A conversation of its own: the new agent's first answer.
        Assert.Equal("ECHO[1]:after", (await SendAsync(c, newId, "after")).GetProperty("text").GetString());

        // The attachment to the old session follows the link, as after a /clear.
        var events = await c.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("sessionId").GetString() == newId && x.GetProperty("type").GetString() == "turn"), Wait);
        var lastOld = events.FindLastIndex(e => e.GetProperty("sessionId").GetString() == oldId);
        Assert.Equal("transition", events[lastOld].GetProperty("type").GetString());
        Assert.Equal(newId, events[lastOld].GetProperty("data").GetProperty("to").GetString());
        Assert.Equal("replace", events[lastOld].GetProperty("data").GetProperty("trigger").GetString());
        var firstNewTransition = events.First(e => e.GetProperty("sessionId").GetString() == newId && e.GetProperty("type").GetString() == "transition");
        Assert.Equal(oldId, firstNewTransition.GetProperty("data").GetProperty("from").GetString());

        await receiver.WaitUntilAsync(r => r.KindsOf(oldId).Contains("end:replaced") && r.KindsOf(newId).Contains("start"), TimeSpan.FromSeconds(10));
        Assert.Single(receiver.KindsOf(oldId), k => k.StartsWith("end", StringComparison.Ordinal));
    }

    [Fact(Timeout = 90000)]
    public async Task Replaces_ASuspendedSession_EndsItAndLinksIt()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var oldId = (await StartAsync(c, "fake")).GetProperty("id").GetString()!;
        await c.RequestAsync("session/suspend", new JsonObject { ["sessionId"] = oldId }, Wait);

        var newId = (await StartAsync(c, "other", replaces: oldId)).GetProperty("id").GetString()!;
        var ended = await GetAsync(c, oldId);
        Assert.Equal("completed", ended.GetProperty("status").GetString());
        Assert.Equal(newId, ended.GetProperty("transitionedTo").GetString());

        // It cannot be resumed any more: its chain goes on in the new session.
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/resume", new JsonObject { ["sessionId"] = oldId }, Wait));
        Assert.Equal(1004, ex.Code);
        Assert.Equal("replaced", ex.ErrorData!.Value.GetProperty("reason").GetString());
        Assert.Equal(newId, ex.ErrorData!.Value.GetProperty("transitionedTo").GetString());
    }

    [Fact(Timeout = 90000)]
    public async Task AReplacementThatCannotStart_LeavesTheReplacedSessionAsItWas()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var oldId = (await StartAsync(c, "fake")).GetProperty("id").GetString()!;

        var failed = await StartAsync(c, "broken", replaces: oldId);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.False(failed.TryGetProperty("transitionedFrom", out var from) && from.ValueKind == JsonValueKind.String);
        var kept = await GetAsync(c, oldId);
        Assert.Equal("active", kept.GetProperty("status").GetString());
        Assert.False(kept.TryGetProperty("transitionedTo", out var to) && to.ValueKind == JsonValueKind.String);
        Assert.Equal("ECHO[1]:still here", (await SendAsync(c, oldId, "still here")).GetProperty("text").GetString());
    }

    [Fact(Timeout = 90000)]
    public async Task Refusals_NameTheField_AndChangeNothing()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var oldId = (await StartAsync(c, "fake")).GetProperty("id").GetString()!;

        async Task<RpcErrorException> Refused(Task<JsonElement> call, int code)
        {
            var ex = await Assert.ThrowsAsync<RpcErrorException>(() => call);
            Assert.Equal(code, ex.Code);
            Assert.Equal("replaces", ex.ErrorData!.Value.GetProperty("field").GetString());
            return ex;
        }

        await Refused(StartAsync(c, "other", replaces: "no-such-session"), 1001);
        var elsewhere = Path.Combine(_dir, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        Assert.Contains(Workspace, (await Refused(StartAsync(c, "other", replaces: oldId, workspace: elsewhere), -32602)).Message, StringComparison.Ordinal);

        var newId = (await StartAsync(c, "other", replaces: oldId)).GetProperty("id").GetString()!;
        Assert.Contains(newId, (await Refused(StartAsync(c, "fake", replaces: oldId), 1004)).Message, StringComparison.Ordinal);

        // Only the two sessions exist: no refused request started an agent.
        var list = await c.RequestAsync("session/list", new JsonObject { ["workspace"] = Workspace });
        Assert.Equal(2, list.GetProperty("sessions").GetArrayLength());
        Assert.Equal("active", (await GetAsync(c, newId)).GetProperty("status").GetString());
    }
}
