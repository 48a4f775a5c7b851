using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// A window reload in the middle of a Codex turn, with the real Codex CLI against the fake model
/// server: the editor's sidecar loses its stdin, the reloaded editor starts a sidecar over stdio
/// in the workspace, and everything goes on in the sidecar that runs the agent.
/// </summary>
public sealed class LingerAgentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Id(string sessionId) => new() { ["sessionId"] = sessionId };

    [Fact(Timeout = 240000)]
    public async Task Codex_WindowReloadDuringASlowTurn_TheAgentGoesOn_TheAnswerArrives_AndTheConversationContinues()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "reload");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:remember the word kiwi", (await run.SendAsync(s.Id, "remember the word kiwi")).GetProperty("text").GetString());
        var agentStart = ProcFs.StartTime(s.AgentPid);
        var firstPid = run.Sidecar.Pid;

        var slowText = "tortoise " + string.Join(' ', Enumerable.Repeat("slowly", 30));
        server.EnqueueReply(FakeReply.Slow(slowText, TimeSpan.FromSeconds(6)));
        var attach = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;
        _ = await run.Client.BeginAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "take your time" }, Wait);
        await server.WaitForTurnAsync(2, Wait, Ct);
        await run.Client.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "delta"), Wait);

        await run.ReloadAsync();

        // The same sidecar, the same agent process.
        Assert.Equal(firstPid, run.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("pid").GetInt32());
        Assert.Equal(agentStart, ProcFs.StartTime(s.AgentPid));
        var session = await run.Client.RequestAsync("session/get", Id(s.Id));
        Assert.Equal("active", session.GetProperty("status").GetString());

        // The turn that was running finishes, and its answer is in the log.
        var chat = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat"), ["afterSeq"] = 0 })).GetProperty("attachId").GetString()!;
        var events = await run.Client.WaitForEventsAsync(
            chat,
            e => e.Any(x => x.GetProperty("type").GetString() == "message" && x.GetProperty("data").GetProperty("text").GetString() == slowText)
                && e.Count(x => x.GetProperty("type").GetString() == "turn" && x.GetProperty("data").GetProperty("status").GetString() == "completed") == 2,
            Wait);
        Assert.Single(events, x => x.GetProperty("type").GetString() == "user" && x.GetProperty("data").GetProperty("text").GetString() == "take your time");

        // Its terminal is there to continue: the screen, then the next message with the conversation so far.
        var screen = await run.Client.RequestAsync("worker/screen", new JsonObject { ["workerId"] = s.AgentWorkerId });
        Assert.Contains(screen.GetProperty("lines").EnumerateArray(), l => l.GetString()!.Contains("tortoise", StringComparison.Ordinal));
        Assert.Equal("PONG:which word", (await run.SendAsync(s.Id, "which word")).GetProperty("text").GetString());
        var turn = await server.WaitForTurnAsync(3, Wait, Ct);
        Assert.Equal(
            ["user:remember the word kiwi", "assistant:PONG:remember the word kiwi", "user:take your time", $"assistant:{slowText}", "user:which word"],
            turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
    }
}
