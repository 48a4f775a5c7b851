using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>The real Claude Code TUI in a PTY through the sidecar, against a fake Anthropic Messages API on 127.0.0.1.</summary>
public sealed class ClaudeChatTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180000)]
    public async Task Claude_BecomesReady_AnswersThroughChatSend_FromItsTranscript_AndKeepsTheConversation()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "chat");
        var s = await run.StartSessionAsync("claude");
        Assert.Equal("active", s.Status);

        var first = await run.SendAsync(s.Id, "hello one");
        Assert.Equal("completed", first.GetProperty("status").GetString());
        Assert.Equal("PONG:hello one", first.GetProperty("text").GetString());

        var second = await run.SendAsync(s.Id, "second msg");
        Assert.Equal("completed", second.GetProperty("status").GetString());
        Assert.Equal("PONG:second msg", second.GetProperty("text").GetString());

        // The second request to the model carries the first exchange: same process, same conversation.
        var turn2 = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(
            ["user:hello one", "assistant:PONG:hello one", "user:second msg"],
            turn2.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        Assert.Empty(server.UnknownRequests);

        var history = await run.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = s.Id });
        Assert.Equal(4, history.GetProperty("messages").GetArrayLength());

        // The answers came from Claude Code's own transcript, with the fake's token usage.
        var chat = await run.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") });
        var events = chat.GetProperty("events").EnumerateArray().ToList();
        Assert.All(
            events.Where(e => e.GetProperty("type").GetString() == "message"),
            e => Assert.Equal("transcript", e.GetProperty("data").GetProperty("source").GetString()));
        var turnEvent = events.First(e => e.GetProperty("type").GetString() == "turn").GetProperty("data");
        Assert.Equal(FakeAnthropicServer.OutputTokens, turnEvent.GetProperty("usage").GetProperty("outputTokens").GetInt64());

        // Its conversation id is the session's agentSessionId: the one in the requests, in
        // ~/.claude/sessions/<pid>.json, and the transcript file's name.
        var session = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id });
        var agentSessionId = session.GetProperty("agentSessionId").GetString();
        Assert.Equal(turn2.SessionId, agentSessionId);
        Assert.Equal(agentSessionId, ClaudeHome.CurrentSessionId(run.Home, s.AgentPid));
        Assert.Equal(agentSessionId + ".jsonl", Path.GetFileName(Assert.Single(ClaudeHome.TranscriptFiles(run.Home))));

        var screen = await run.Client.RequestAsync("worker/screen", new JsonObject { ["workerId"] = s.AgentWorkerId });
        Assert.Contains(screen.GetProperty("lines").EnumerateArray(), l => l.GetString()!.Contains("PONG:second msg", StringComparison.Ordinal));
    }

    [Fact(Timeout = 180000)]
    public async Task Claude_SessionClear_StartsANewConversation_InANewTranscript_AndTheChainHasBoth()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "clear");
        var s = await run.StartSessionAsync("claude");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());
        var oldAgentId = ClaudeHome.CurrentSessionId(run.Home, s.AgentPid);

        var cleared = await run.Client.RequestAsync("session/clear", new JsonObject { ["sessionId"] = s.Id }, Wait);
        var newId = cleared.GetProperty("current").GetProperty("id").GetString()!;
        Assert.Equal(s.Id, cleared.GetProperty("current").GetProperty("transitionedFrom").GetString());
        Assert.Equal("PONG:after", (await run.SendAsync(newId, "after")).GetProperty("text").GetString());

        // Claude Code really started afresh: the request after the clear has no old history and a new id.
        var turn2 = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:after"], turn2.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        Assert.NotEqual(oldAgentId, turn2.SessionId);
        Assert.Equal(turn2.SessionId, ClaudeHome.CurrentSessionId(run.Home, s.AgentPid));

        var oldView = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id });
        var newView = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = newId });
        Assert.Equal(oldAgentId, oldView.GetProperty("agentSessionId").GetString());
        Assert.Equal(turn2.SessionId, newView.GetProperty("agentSessionId").GetString());
        Assert.Equal(2, ClaudeHome.TranscriptFiles(run.Home).Count);
        foreach (var id in new[] { s.Id, newId })
        {
            Assert.Equal(2, (await run.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = id })).GetProperty("messages").GetArrayLength());
        }
    }

    [Fact(Timeout = 180000)]
    public async Task Claude_ClearTypedIntoItsTerminal_IsATransition_AndTheNextMessageIsNew()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "typed-clear");
        var s = await run.StartSessionAsync("claude");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());
        var oldAgentId = ClaudeHome.CurrentSessionId(run.Home, s.AgentPid);

        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "/clear" });
        await Waits.ComposerAsync(run.Client, s.AgentWorkerId, "❯", "/clear");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });
        var note = await run.Client.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/transitioned", Wait);
        var newId = note.GetProperty("params").GetProperty("current").GetProperty("id").GetString()!;

        Assert.Equal("PONG:fresh", (await run.SendAsync(newId, "fresh")).GetProperty("text").GetString());
        var turn2 = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:fresh"], turn2.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        Assert.NotEqual(oldAgentId, turn2.SessionId);
        var view = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = newId });
        Assert.Equal(turn2.SessionId, view.GetProperty("agentSessionId").GetString());
    }

    [Fact(Timeout = 180000)]
    public async Task Claude_CancelDuringASlowAnswer_InterruptsTheTurn_AndTheNextMessageWorks()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "cancel");
        var s = await run.StartSessionAsync("claude");
        server.EnqueueReply(FakeReply.Slow("tortoise " + string.Join(' ', Enumerable.Repeat("slowly", 40)), TimeSpan.FromSeconds(20)));
        var slow = run.SendAsync(s.Id, "take your time");
        await server.WaitForTurnAsync(1, Wait, Ct);
        await Waits.ScreenAsync(run.Client, s.AgentWorkerId, "the slow answer on screen", lines => lines.Any(l => l.Contains("tortoise", StringComparison.Ordinal)));

        await run.Client.RequestAsync("chat/cancel", new JsonObject { ["sessionId"] = s.Id });
        var result = await slow;
        Assert.Equal("cancelled", result.GetProperty("status").GetString());

        var next = await run.SendAsync(s.Id, "are you there");
        Assert.Equal("completed", next.GetProperty("status").GetString());
        Assert.Equal("PONG:are you there", next.GetProperty("text").GetString());
    }

    [Fact(Timeout = 180000)]
    public async Task Claude_MessageTypedIntoTheTerminal_ShowsUpAsAChatTurn()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "typed");
        var s = await run.StartSessionAsync("claude");
        var attach = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;

        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "typed by hand" });
        await Waits.ComposerAsync(run.Client, s.AgentWorkerId, "❯", "typed by hand");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });

        var events = await run.Client.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "turn"), Wait);
        var user = events.First(e => e.GetProperty("type").GetString() == "user").GetProperty("data");
        Assert.Equal("typed by hand", user.GetProperty("text").GetString());
        Assert.Equal("terminal", user.GetProperty("source").GetString());
        var message = events.First(e => e.GetProperty("type").GetString() == "message").GetProperty("data");
        Assert.Equal("PONG:typed by hand", message.GetProperty("text").GetString());
    }

    [Fact(Timeout = 240000)]
    public async Task Claude_SuspendQuitsItWithExit_AndResumeContinuesTheConversation_AfterASidecarRestart()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "resume");
        var s = await run.StartSessionAsync("claude");
        Assert.Equal("PONG:remember kiwi", (await run.SendAsync(s.Id, "remember kiwi")).GetProperty("text").GetString());
        var agentSessionId = (await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id })).GetProperty("agentSessionId").GetString();
        Assert.False(string.IsNullOrEmpty(agentSessionId));

        var suspended = await run.Client.RequestAsync("session/suspend", new JsonObject { ["sessionId"] = s.Id }, Wait);
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
        Assert.Null(AgentSidecar.EndToEnd.Tests.ProcFs.StartTime(s.AgentPid));
        Assert.Null(ClaudeHome.CurrentSessionId(run.Home, s.AgentPid)); // it exited by itself: /exit removes sessions/<pid>.json

        await run.RestartAsync(kill: false);
        var resumed = await run.Client.RequestAsync("session/resume", new JsonObject { ["sessionId"] = s.Id }, Wait);
        Assert.Equal("active", resumed.GetProperty("status").GetString());
        Assert.Equal(agentSessionId, resumed.GetProperty("agentSessionId").GetString());

        Assert.Equal("PONG:which word", (await run.SendAsync(s.Id, "which word")).GetProperty("text").GetString());
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(agentSessionId, turn.SessionId);
        Assert.Equal(
            ["user:remember kiwi", "assistant:PONG:remember kiwi", "user:which word"],
            turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        var history = await run.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = s.Id });
        Assert.Equal(
            ["user:remember kiwi", "assistant:PONG:remember kiwi", "user:which word", "assistant:PONG:which word"],
            history.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList());
    }
}
