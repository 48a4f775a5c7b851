using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// Approvals against the scripted fake agent (which asks before it runs a command the way Codex
/// does): the prompt becomes a chat/approval event, answered through chat/approve or in the
/// terminal, and the turn goes on with the agent's answer.
/// </summary>
public sealed class ApprovalTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-approval-").FullName;
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

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static JsonObject Profile(double? turnIdleSeconds = null)
    {
        var profile = ChatTests.FakeProfile();
        profile["approvals"] = new JsonArray(new JsonObject
        {
            ["screen"] = @"Would you like to run the following command\?\n\s*\$ (?<detail>.+)\n.*1\. Yes, proceed",
            ["title"] = "Run a command?",
            ["selectedMarker"] = "›",
            ["options"] = new JsonArray(
                new JsonObject { ["optionId"] = "yes", ["label"] = "Yes, proceed", ["kind"] = "allow_once", ["keys"] = "y" },
                new JsonObject { ["optionId"] = "no", ["label"] = "No, and tell me what to do differently", ["kind"] = "reject_once", ["keys"] = "\u001b" }),
        });
        profile["chromePatterns"] = new JsonArray("^›", "^■", @"^\s*\d\. ", "Would you like", @"^\s*\$ ");
        if (turnIdleSeconds is { } idle)
        {
            profile["turnIdleSeconds"] = idle;
        }

        return profile;
    }

    private async Task<(SidecarProcess Sidecar, string SessionId, string AgentId, string AttachId)> StartAsync(JsonObject? profile = null)
    {
        var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["providers"] = new JsonObject { ["fake"] = profile ?? Profile() } });
        var ws = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "fake" });
        var sid = s.GetProperty("id").GetString()!;
        var attach = (await sidecar.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;
        return (sidecar, sid, s.GetProperty("workers")[0].GetProperty("id").GetString()!, attach);
    }

    private static List<JsonElement> Approvals(RpcClient c, string attachId) =>
        c.Events(attachId).Where(e => e.GetProperty("type").GetString() == "approval").Select(e => e.GetProperty("data")).ToList();

    private static async Task<JsonElement> PendingAsync(RpcClient c, string attachId)
    {
        await c.WaitForEventsAsync(attachId, e => e.Any(x => x.GetProperty("type").GetString() == "approval"), Wait);
        return Approvals(c, attachId)[0];
    }

    private static async Task<JsonElement> ResolvedAsync(RpcClient c, string attachId, string approvalId)
    {
        await c.WaitForEventsAsync(attachId, e => e.Any(x => x.GetProperty("type").GetString() == "approval" && x.GetProperty("data").GetProperty("approvalId").GetString() == approvalId
            && x.GetProperty("data").GetProperty("status").GetString() != "pending"), Wait);
        return Approvals(c, attachId).Last(a => a.GetProperty("approvalId").GetString() == approvalId);
    }

    [Fact(Timeout = 60000)]
    public async Task APrompt_IsAPendingApproval_ApprovedThroughTheChat_TheCommandRuns_AndTheTurnEndsWithTheAnswer()
    {
        var (sidecar, sid, _, attach) = await StartAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;
        var marker = Path.Combine(_dir, "allowed.txt");
        var (_, turn) = await c.BeginAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"ask touch {marker}" }, Wait);

        var pending = await PendingAsync(c, attach);
        Assert.Equal("pending", pending.GetProperty("status").GetString());
        Assert.Equal("Run a command?", pending.GetProperty("title").GetString());
        Assert.Equal($"touch {marker}", pending.GetProperty("detail").GetString());
        Assert.Equal(["yes:allow_once", "no:reject_once"], pending.GetProperty("options").EnumerateArray().Select(o => $"{o.GetProperty("optionId").GetString()}:{o.GetProperty("kind").GetString()}"));
        var view = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.True(view.GetProperty("busy").GetBoolean());
        Assert.Equal("approval", view.GetProperty("waiting").GetString());
        Assert.False(File.Exists(marker));

        var approvalId = pending.GetProperty("approvalId").GetString()!;
        var approved = (await c.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = approvalId, ["optionId"] = "yes" }, Wait)).GetProperty("approval");
        Assert.Equal("allowed", approved.GetProperty("status").GetString());
        Assert.Equal("chat", approved.GetProperty("resolvedBy").GetString());
        Assert.Equal("yes", approved.GetProperty("optionId").GetString());

        var result = await turn;
        Assert.Equal("completed", result.GetProperty("status").GetString());
        Assert.Contains($"done: touch {marker}", result.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(marker));
        Assert.Equal("allowed", (await ResolvedAsync(c, attach, approvalId)).GetProperty("status").GetString());
        Assert.False((await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).TryGetProperty("waiting", out _));

        // Answering again is refused with what happened to it.
        var again = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = approvalId, ["optionId"] = "yes" }));
        Assert.Equal(1003, again.Code);
        Assert.Equal("allowed", again.ErrorData!.Value.GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task Rejected_TheCommandDoesNotRun_AndTheTurnEndsWithTheAgentsAnswer()
    {
        var (sidecar, sid, _, attach) = await StartAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;
        var marker = Path.Combine(_dir, "rejected.txt");
        var (_, turn) = await c.BeginAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"ask touch {marker}" }, Wait);
        var approvalId = (await PendingAsync(c, attach)).GetProperty("approvalId").GetString()!;

        var bad = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = approvalId, ["optionId"] = "maybe" }));
        Assert.Equal(-32602, bad.Code);
        Assert.Equal("optionId", bad.ErrorData!.Value.GetProperty("field").GetString());
        var unknown = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = "a-nope", ["optionId"] = "no" }));
        Assert.Equal(1002, unknown.Code);

        var rejected = (await c.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = approvalId, ["optionId"] = "no" }, Wait)).GetProperty("approval");
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        var result = await turn;
        Assert.Equal("completed", result.GetProperty("status").GetString());
        Assert.Contains("Rejected", result.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Theory(Timeout = 60000)]
    [InlineData("y")]
    [InlineData("\r")]
    public async Task AnsweredInTheTerminal_ResolvesTheApprovalAsTheTerminals(string keys)
    {
        var (sidecar, sid, agentId, attach) = await StartAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;
        var marker = Path.Combine(_dir, "terminal.txt");
        var (_, turn) = await c.BeginAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"ask touch {marker}" }, Wait);
        var approvalId = (await PendingAsync(c, attach)).GetProperty("approvalId").GetString()!;

        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = agentId, ["data"] = keys });
        var resolved = await ResolvedAsync(c, attach, approvalId);
        Assert.Equal("allowed", resolved.GetProperty("status").GetString());
        Assert.Equal("terminal", resolved.GetProperty("resolvedBy").GetString());
        Assert.Equal("yes", resolved.GetProperty("optionId").GetString());
        Assert.Equal("completed", (await turn).GetProperty("status").GetString());
        Assert.True(File.Exists(marker));
    }

    [Fact(Timeout = 60000)]
    public async Task CancelWhileAnApprovalWaits_RejectsItFirst_AndTheCommandNeverRuns()
    {
        var (sidecar, sid, _, attach) = await StartAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;
        var marker = Path.Combine(_dir, "cancelled.txt");
        var (_, turn) = await c.BeginAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"ask touch {marker}" }, Wait);
        var approvalId = (await PendingAsync(c, attach)).GetProperty("approvalId").GetString()!;

        await c.RequestAsync("chat/cancel", new JsonObject { ["sessionId"] = sid });
        var resolved = await ResolvedAsync(c, attach, approvalId);
        Assert.Equal("rejected", resolved.GetProperty("status").GetString());
        Assert.Equal("chat", resolved.GetProperty("resolvedBy").GetString());
        var result = await turn;
        Assert.Contains(result.GetProperty("status").GetString(), new[] { "cancelled", "completed" });
        Assert.False(File.Exists(marker));
    }

    [Fact(Timeout = 60000)]
    public async Task SuspendAndClearWhileAnApprovalWaits_SuspendIsRefused_ClearRejectsItAndMovesOn()
    {
        var (sidecar, sid, _, attach) = await StartAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;
        var marker = Path.Combine(_dir, "cleared.txt");
        var (_, turn) = await c.BeginAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"ask touch {marker}" }, Wait);
        var approvalId = (await PendingAsync(c, attach)).GetProperty("approvalId").GetString()!;

        var busy = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/suspend", new JsonObject { ["sessionId"] = sid }));
        Assert.Equal(1003, busy.Code);

        var cleared = await c.RequestAsync("session/clear", new JsonObject { ["sessionId"] = sid }, Wait);
        Assert.Equal(sid, cleared.GetProperty("previous").GetProperty("id").GetString());
        var resolved = await ResolvedAsync(c, attach, approvalId);
        Assert.Equal("rejected", resolved.GetProperty("status").GetString());
        Assert.Equal("chat", resolved.GetProperty("resolvedBy").GetString());
        await turn;
        Assert.False(File.Exists(marker));
    }

    [Fact(Timeout = 60000)]
    public async Task ATurnWaitingForAnApproval_IsNotEndedByTheIdleRule()
    {
        var (sidecar, sid, _, attach) = await StartAsync(Profile(turnIdleSeconds: 1));
        await using var owned = sidecar;
        var c = sidecar.Client;
        var marker = Path.Combine(_dir, "later.txt");
        var (_, turn) = await c.BeginAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"ask touch {marker}" }, Wait);
        var pending = await PendingAsync(c, attach);

        // The idle limit passes twice over while the prompt waits (the user is away).
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow - since < TimeSpan.FromSeconds(2.5))
        {
            Assert.False(turn.IsCompleted, "the turn ended while its approval waited");
            await Task.Delay(100, Ct);
        }

        Assert.Equal("approval", (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("waiting").GetString());
        await c.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = pending.GetProperty("approvalId").GetString(), ["optionId"] = "yes" }, Wait);
        Assert.Equal("completed", (await turn).GetProperty("status").GetString());
    }
}
