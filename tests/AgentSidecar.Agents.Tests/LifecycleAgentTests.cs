using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>Suspend, resume, a sidecar killed with live agents, and import, with the real Codex CLI against the fake model server.</summary>
public sealed class LifecycleAgentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Id(string sessionId) => new() { ["sessionId"] = sessionId };

    [Fact(Timeout = 240000)]
    public async Task Codex_SuspendThenResume_ContinuesTheConversation_EvenAfterASidecarRestart()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "resume");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:remember the word kiwi", (await run.SendAsync(s.Id, "remember the word kiwi")).GetProperty("text").GetString());
        var agentSessionId = (await run.Client.RequestAsync("session/get", Id(s.Id))).GetProperty("agentSessionId").GetString();
        Assert.False(string.IsNullOrEmpty(agentSessionId));

        var suspended = await run.Client.RequestAsync("session/suspend", Id(s.Id), Wait);
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
        Assert.Null(ProcFs.StartTime(s.AgentPid));

        // Tomorrow: a new sidecar on the same data resumes it.
        await run.RestartAsync(kill: false);
        var resumed = await run.Client.RequestAsync("session/resume", Id(s.Id), Wait);
        Assert.Equal("active", resumed.GetProperty("status").GetString());
        Assert.Equal(agentSessionId, resumed.GetProperty("agentSessionId").GetString());
        var agentWorker = resumed.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("kind").GetString() == "agent");
        Assert.Equal(s.AgentWorkerId, agentWorker.GetProperty("id").GetString());

        var answer = await run.SendAsync(s.Id, "which word");
        Assert.Equal("PONG:which word", answer.GetProperty("text").GetString());

        // The first request after the resume carries the earlier conversation, in the same agent session.
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(agentSessionId, turn.SessionId);
        Assert.Equal(
            ["user:remember the word kiwi", "assistant:PONG:remember the word kiwi", "user:which word"],
            turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());

        // The resumed transcript is read from where it stood: the old turn is not recorded twice.
        var history = await run.Client.RequestAsync("chat/history", Id(s.Id));
        Assert.Equal(
            ["user:remember the word kiwi", "assistant:PONG:remember the word kiwi", "user:which word", "assistant:PONG:which word"],
            history.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList());
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_SidecarKilled_LeavesNoCodexProcess_AndTheSessionResumesWithItsConversation()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "kill9");
        var s = await run.StartSessionAsync("codex");
        await run.SendAsync(s.Id, "first words");
        var start = ProcFs.StartTime(s.AgentPid);
        Assert.NotNull(start);
        Assert.NotEmpty(ProcFs.SessionMembers(s.AgentPid));

        await run.RestartAsync(kill: true);

        // The new sidecar killed what was left (checked by pid and start time in /proc).
        Assert.NotEqual(start, ProcFs.StartTime(s.AgentPid));
        Assert.Empty(ProcFs.SessionMembers(s.AgentPid));
        var recovered = await run.Client.RequestAsync("session/get", Id(s.Id));
        Assert.Equal("suspended", recovered.GetProperty("status").GetString());
        Assert.Equal("owner-lost", recovered.GetProperty("statusReason").GetString());

        Assert.Equal("active", (await run.Client.RequestAsync("session/resume", Id(s.Id), Wait)).GetProperty("status").GetString());
        Assert.Equal("PONG:and more", (await run.SendAsync(s.Id, "and more")).GetProperty("text").GetString());
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:first words", "assistant:PONG:first words", "user:and more"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_Import_RecordsItsExistingConversations_AsResumableSessionsWithHistory()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "import");
        var s = await run.StartSessionAsync("codex");
        await run.SendAsync(s.Id, "an old conversation");
        var agentSessionId = (await run.Client.RequestAsync("session/get", Id(s.Id))).GetProperty("agentSessionId").GetString();
        await run.Client.RequestAsync("session/end", Id(s.Id), Wait);
        await run.Client.RequestAsync("session/delete", Id(s.Id));

        var imported = await run.Client.RequestAsync("session/import", new JsonObject { ["workspace"] = run.Workspace, ["provider"] = "codex" });
        var session = imported.GetProperty("sessions").EnumerateArray().Single();
        Assert.Equal("suspended", session.GetProperty("status").GetString());
        Assert.Equal(agentSessionId, session.GetProperty("agentSessionId").GetString());
        Assert.Equal("an old conversation", session.GetProperty("title").GetString());
        var id = session.GetProperty("id").GetString()!;
        var history = await run.Client.RequestAsync("chat/history", Id(id));
        Assert.Equal(["user:an old conversation", "assistant:PONG:an old conversation"], history.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList());

        // Importing again records nothing new.
        var again = await run.Client.RequestAsync("session/import", new JsonObject { ["workspace"] = run.Workspace, ["provider"] = "codex" });
        Assert.Equal(id, again.GetProperty("sessions").EnumerateArray().Single().GetProperty("id").GetString());

        Assert.Equal("active", (await run.Client.RequestAsync("session/resume", Id(id), Wait)).GetProperty("status").GetString());
        await run.SendAsync(id, "back again");
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:an old conversation", "assistant:PONG:an old conversation", "user:back again"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
    }

    [Fact(Timeout = 240000)]
    public async Task Auggie_SuspendQuitsItByItsOwnCommand_AndResumeContinuesTheConversation()
    {
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "resume");
        var s = await run.StartSessionAsync("auggie");
        Assert.Equal("PONG:remember plum", (await run.SendAsync(s.Id, "remember plum")).GetProperty("text").GetString());

        var suspended = await run.Client.RequestAsync("session/suspend", Id(s.Id), Wait);
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());

        // Its quit command (/quit and two Enters) ended it with code 0, not a signal.
        var agent = suspended.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("kind").GetString() == "agent");
        Assert.Equal(0, agent.GetProperty("exitCode").GetInt32());

        Assert.Equal("active", (await run.Client.RequestAsync("session/resume", Id(s.Id), Wait)).GetProperty("status").GetString());
        Assert.Equal("PONG:what fruit", (await run.SendAsync(s.Id, "what fruit")).GetProperty("text").GetString());
        var chat = await server.WaitForChatAsync(2, Wait, Ct);
        Assert.Equal(["remember plum:PONG:remember plum"], chat.History.Select(h => $"{h.User}:{h.Assistant}").ToList());
        var history = await run.Client.RequestAsync("chat/history", Id(s.Id));
        Assert.Equal(4, history.GetProperty("messages").GetArrayLength());
    }
}
