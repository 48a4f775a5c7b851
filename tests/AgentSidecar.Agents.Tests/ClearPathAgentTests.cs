using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// Every way a user clears the real Codex and Claude Code is one transition: the clear command sent
/// as a chat message, picked from the agent's slash-command menu with the arrow keys, completed with
/// Tab, recalled with the Up arrow (Claude Code; Codex does not recall commands). Pasted text that
/// holds a clear line is not one.
/// </summary>
public sealed class ClearPathAgentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task InputAsync(AgentRun run, JsonElementSession s, string data) =>
        run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = data });

    /// <summary>Waits until the session's chat history holds <paramref name="count"/> messages (a turn typed in the terminal has ended).</summary>
    private static async Task HistoryHasAsync(AgentRun run, string sessionId, int count)
    {
        var deadline = DateTime.UtcNow + Wait;
        while ((await run.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = sessionId })).GetProperty("messages").GetArrayLength() < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"session {sessionId} never had {count} chat messages");
            await Task.Delay(50, Ct);
        }
    }

    private static async Task<(string NewId, string Trigger)> TransitionedAsync(AgentRun run, string oldId)
    {
        var note = await run.Client.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/transitioned"
            && n.GetProperty("params").GetProperty("previous").GetProperty("id").GetString() == oldId, Wait);
        var newId = note.GetProperty("params").GetProperty("current").GetProperty("id").GetString()!;
        var events = await run.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = oldId, ["afterSeq"] = 0, ["limit"] = 10000, ["channels"] = new JsonArray("system") });
        var last = events.GetProperty("events").EnumerateArray().Last();
        Assert.Equal("transition", last.GetProperty("type").GetString());
        return (newId, last.GetProperty("data").GetProperty("trigger").GetString()!);
    }

    private static async Task<int> TransitionCountAsync(AgentRun run) =>
        (await run.Client.RequestAsync("session/list", new JsonObject { ["workspace"] = run.Workspace })).GetProperty("sessions").GetArrayLength();

    [Fact(Timeout = 240000)]
    public async Task Codex_ClearSentWithChatSend_IsATransition_AndTheModelSeesACleanConversation()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "chat-clear");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());

        var cleared = await run.Client.RequestAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "/clear" }, Wait);
        Assert.Equal("cleared", cleared.GetProperty("status").GetString());
        var newId = cleared.GetProperty("sessionId").GetString()!;
        Assert.Equal(s.Id, cleared.GetProperty("previousSessionId").GetString());

        var after = await run.SendAsync(newId, "after");
        Assert.Equal("PONG:after", after.GetProperty("text").GetString());
        Assert.Equal(newId, after.GetProperty("sessionId").GetString());
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:after"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        Assert.Equal("cleared", turn.HistoryInitialization);
        Assert.Equal(2, await TransitionCountAsync(run));
    }

    [Theory(Timeout = 240000)]
    [InlineData("menu")]
    [InlineData("tab")]
    public async Task Codex_ClearPickedFromItsMenuOrCompletedWithTab_IsOneTransition_SeenFromTheAgent(string how)
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, $"menu-clear-{how}");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());

        await InputAsync(run, s, "/cl");
        await Waits.ScreenAsync(run.Client, s.AgentWorkerId, "the screen to show \"/clear\"", lines => lines.Any(l => l.Contains("/clear", StringComparison.Ordinal)));
        if (how == "menu")
        {
            await InputAsync(run, s, "\u001b[B");
            await InputAsync(run, s, "\u001b[A");
        }
        else
        {
            await InputAsync(run, s, "\t");
        }

        await InputAsync(run, s, "\r");
        var (newId, trigger) = await TransitionedAsync(run, s.Id);
        Assert.Equal("agent", trigger);

        Assert.Equal("PONG:after", (await run.SendAsync(newId, "after")).GetProperty("text").GetString());
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:after"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        var view = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = newId });
        Assert.Equal(turn.SessionId, view.GetProperty("agentSessionId").GetString());
        Assert.Equal(2, await TransitionCountAsync(run));
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_PastedTextHoldingAClearLine_IsAMessage_NotATransition()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "paste-clear");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());

        await InputAsync(run, s, "\u001b[200~notes\r/clear\rend\u001b[201~");
        await Waits.ScreenAsync(run.Client, s.AgentWorkerId, "the screen to show \"end\"", lines => lines.Any(l => l.Contains("end", StringComparison.Ordinal)));
        await InputAsync(run, s, "\r");

        // Codex sent the pasted text as a message in the same conversation.
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Contains("/clear", turn.Conversation[^1].Text, StringComparison.Ordinal);
        Assert.Contains("user:before", turn.Conversation.Select(m => $"{m.Role}:{m.Text}"));
        await HistoryHasAsync(run, s.Id, 4); // the terminal's turn has ended
        Assert.Equal("PONG:again", (await run.SendAsync(s.Id, "again")).GetProperty("text").GetString());
        var view = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id });
        Assert.Equal("active", view.GetProperty("status").GetString());
        Assert.False(view.TryGetProperty("transitionedTo", out _));
        Assert.Equal(1, await TransitionCountAsync(run));
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_AMessageRecalledWithTheUpArrow_IsAMessage_NotATransition()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "up-message");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());
        await InputAsync(run, s, "/clear");
        await Waits.ScreenAsync(run.Client, s.AgentWorkerId, "the screen to show \"/clear\"", lines => lines.Any(l => l.Contains("/clear", StringComparison.Ordinal)));
        await InputAsync(run, s, "\r");
        var (newId, trigger) = await TransitionedAsync(run, s.Id);
        Assert.Contains(trigger, new[] { "terminal", "agent" });

        // Codex never recalls commands: Up brings back "before", and Enter sends it as a message.
        await InputAsync(run, s, "\u001b[A");
        await Waits.ComposerAsync(run.Client, s.AgentWorkerId, "›", "before");
        await InputAsync(run, s, "\r");
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:before"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        await HistoryHasAsync(run, newId, 2);
        Assert.Equal("PONG:next", (await run.SendAsync(newId, "next")).GetProperty("text").GetString());
        Assert.Equal(2, await TransitionCountAsync(run));
    }

    [Fact(Timeout = 240000)]
    public async Task Claude_ClearSentWithChatSend_IsATransition_AndTheModelSeesACleanConversation()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "chat-clear");
        var s = await run.StartSessionAsync("claude");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());

        var cleared = await run.Client.RequestAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "/clear" }, Wait);
        Assert.Equal("cleared", cleared.GetProperty("status").GetString());
        var newId = cleared.GetProperty("sessionId").GetString()!;
        Assert.Equal("PONG:after", (await run.SendAsync(newId, "after")).GetProperty("text").GetString());
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:after"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        Assert.Equal(2, await TransitionCountAsync(run));
    }

    [Theory(Timeout = 240000)]
    [InlineData("menu")]
    [InlineData("up")]
    public async Task Claude_ClearPickedFromItsMenuOrRecalledWithUp_IsOneTransition_SeenFromTheAgent(string how)
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, $"menu-clear-{how}");
        var s = await run.StartSessionAsync("claude");
        Assert.Equal("PONG:one", (await run.SendAsync(s.Id, "one")).GetProperty("text").GetString());
        var firstId = s.Id;
        if (how == "up")
        {
            // A first clear typed key by key, so that the history has one to recall.
            await InputAsync(run, s, "/clear");
            await Waits.ScreenAsync(run.Client, s.AgentWorkerId, "the screen to show \"/clear\"", lines => lines.Any(l => l.Contains("/clear", StringComparison.Ordinal)));
            await InputAsync(run, s, "\r");
            var (secondId, _) = await TransitionedAsync(run, firstId);
            Assert.Equal("PONG:two", (await run.SendAsync(secondId, "two")).GetProperty("text").GetString());
            firstId = secondId;
            await InputAsync(run, s, "\u001b[A");
            await Waits.ComposerAsync(run.Client, s.AgentWorkerId, "❯", "two");
            await InputAsync(run, s, "\u001b[A");
            await Waits.ComposerAsync(run.Client, s.AgentWorkerId, "❯", "/clear");
        }
        else
        {
            await InputAsync(run, s, "/cl");
            await Waits.ScreenAsync(run.Client, s.AgentWorkerId, "the screen to show \"/clear\"", lines => lines.Any(l => l.Contains("/clear", StringComparison.Ordinal)));
            await InputAsync(run, s, "\u001b[B");
            await InputAsync(run, s, "\u001b[A");
        }

        await InputAsync(run, s, "\r");
        var (newId, trigger) = await TransitionedAsync(run, firstId);
        Assert.Equal("agent", trigger);
        Assert.Equal("PONG:after", (await run.SendAsync(newId, "after")).GetProperty("text").GetString());
        var turn = server.Turns[^1];
        Assert.Equal(["user:after"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        var view = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = newId });
        Assert.Equal(turn.SessionId, view.GetProperty("agentSessionId").GetString());
        Assert.Equal(how == "up" ? 3 : 2, await TransitionCountAsync(run));
    }
}
