using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>The real Codex TUI in a PTY through the sidecar, against a fake Responses API on 127.0.0.1.</summary>
public sealed class CodexChatTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180000)]
    public async Task Codex_BecomesReady_AnswersThroughChatSend_AndKeepsTheConversation()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "chat");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("active", s.Status);

        var first = await run.SendAsync(s.Id, "hello one");
        Assert.Equal("completed", first.GetProperty("status").GetString());
        Assert.Equal("PONG:hello one", first.GetProperty("text").GetString());

        var second = await run.SendAsync(s.Id, "second msg");
        Assert.Equal("PONG:second msg", second.GetProperty("text").GetString());

        // The second request to the model carries the first exchange: same process, same conversation.
        var turn2 = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(
            ["user:hello one", "assistant:PONG:hello one", "user:second msg"],
            turn2.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());

        var history = await run.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = s.Id });
        Assert.Equal(4, history.GetProperty("messages").GetArrayLength());

        // The answer came from Codex's own rollout file: its thread id is the session's agentSessionId, with token usage.
        var chat = await run.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") });
        var message = chat.GetProperty("events").EnumerateArray().First(e => e.GetProperty("type").GetString() == "message").GetProperty("data");
        Assert.Equal("transcript", message.GetProperty("source").GetString());
        var turnEvent = chat.GetProperty("events").EnumerateArray().First(e => e.GetProperty("type").GetString() == "turn").GetProperty("data");
        Assert.True(turnEvent.GetProperty("usage").GetProperty("outputTokens").GetInt64() > 0);
        var session = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id });
        Assert.Equal(turn2.SessionId, session.GetProperty("agentSessionId").GetString());
        var screen = await run.Client.RequestAsync("worker/screen", new JsonObject { ["workerId"] = s.AgentWorkerId });
        Assert.Contains(screen.GetProperty("lines").EnumerateArray(), l => l.GetString()!.Contains("PONG:second msg", StringComparison.Ordinal));
    }

    /// <summary>
    /// Codex with its paste-burst detection on, as users have it (the other tests turn it off): an
    /// Enter in the same burst as typed keys is a newline there. The Codex profile's submit delay
    /// (30 ms) must still let a chat message (a bracketed paste) be taken at once (no resubmit 2 s
    /// later) and whole, the clear command (typed as keys) start a new conversation, and the quit
    /// command end Codex before the sidecar's SIGHUP (5 s). With 0 ms the clear was lost and /quit
    /// not taken (docs/benchmarks.md, "ACP and protocol v1 beside codex-acp").
    /// </summary>
    [Fact(Timeout = 180000)]
    public async Task Codex_WithPasteBurstDetectionOn_TakesMessagesAtOnce_AndItsClearAndQuit()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "burst");
        CodexHome.Create(run.Home.Root, server.BaseUrl, run.Workspace, new CodexHomeOptions { PasteBurst = true });
        var s = await run.StartSessionAsync("codex");

        string[] messages = ["one", "line one\nline two\n  indented three", "long " + string.Concat(Enumerable.Repeat("abcdefghij", 300)), "ünïcödé ✓ 漢字"];
        foreach (var text in messages)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var result = await run.SendAsync(s.Id, text);
            Assert.Equal("PONG:" + text, result.GetProperty("text").GetString());
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(1.8), $"{text[..3]}…: {started.Elapsed.TotalMilliseconds:0} ms (a resubmit comes after 2 s)");
        }

        Assert.Equal(messages, server.Turns.Select(t => t.Conversation[^1].Text));

        var cleared = await run.Client.RequestAsync("session/clear", new JsonObject { ["sessionId"] = s.Id }, Wait);
        var current = cleared.GetProperty("current").GetProperty("id").GetString()!;
        Assert.Equal("PONG:after the clear", (await run.SendAsync(current, "after the clear")).GetProperty("text").GetString());
        var afterClear = await server.WaitForTurnAsync(messages.Length + 1, Wait, Ct);
        Assert.Equal(["user:after the clear"], afterClear.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());

        var quit = System.Diagnostics.Stopwatch.StartNew();
        await run.Client.RequestAsync("session/suspend", new JsonObject { ["sessionId"] = current }, Wait);
        Assert.True(quit.Elapsed < TimeSpan.FromSeconds(4), $"suspend took {quit.Elapsed.TotalMilliseconds:0} ms: Codex did not take /quit");
    }

    [Fact(Timeout = 180000)]
    public async Task Codex_CancelDuringASlowAnswer_InterruptsTheTurn_AndTheNextMessageWorks()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "cancel");
        var s = await run.StartSessionAsync("codex");
        var attach = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;
        server.EnqueueReply(FakeReply.Slow("tortoise " + string.Join(' ', Enumerable.Repeat("slowly", 40)), TimeSpan.FromSeconds(20)));
        var slow = run.SendAsync(s.Id, "take your time");
        await server.WaitForTurnAsync(1, Wait, Ct);
        await run.Client.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "delta"), Wait);

        await run.Client.RequestAsync("chat/cancel", new JsonObject { ["sessionId"] = s.Id });
        var result = await slow;
        Assert.Equal("cancelled", result.GetProperty("status").GetString());
        Assert.StartsWith("tortoise", result.GetProperty("text").GetString(), StringComparison.Ordinal);

        var next = await run.SendAsync(s.Id, "are you there");
        Assert.Equal("PONG:are you there", next.GetProperty("text").GetString());
    }

    [Fact(Timeout = 180000)]
    public async Task Codex_ExitingMidTurn_FailsTheTurnAndTheSession_WithItsScreen()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "exit");
        var s = await run.StartSessionAsync("codex");
        server.EnqueueReply(FakeReply.Slow("never finished", TimeSpan.FromSeconds(30)));
        var turn = run.SendAsync(s.Id, "start something long");
        await server.WaitForTurnAsync(1, Wait, Ct);
        System.Diagnostics.Process.GetProcessById(s.AgentPid).Kill(); // SIGKILL

        var result = await turn;
        Assert.Equal("failed", result.GetProperty("status").GetString());
        Assert.Contains("signal 9", result.GetProperty("reason").GetString(), StringComparison.Ordinal);
        await Waits.StatusAsync(run.Client, s.Id, "failed");
        var events = await run.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("system") });
        var error = events.GetProperty("events").EnumerateArray().Last(e => e.GetProperty("type").GetString() == "error").GetProperty("data");
        Assert.Contains("start something long", error.GetProperty("tail").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 180000)]
    public async Task Codex_MessageTypedIntoTheTerminal_ShowsUpAsAChatTurn()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "typed");
        var s = await run.StartSessionAsync("codex");
        var attach = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;

        // The user types into the agent's own terminal (as in the editor's terminal view), not via chat/send.
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "typed by hand" });
        await Waits.TypedAsync(run.Client, s.AgentWorkerId, "typed by hand");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });

        var events = await run.Client.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "turn"), Wait);
        var user = events.First(e => e.GetProperty("type").GetString() == "user").GetProperty("data");
        Assert.Equal("typed by hand", user.GetProperty("text").GetString());
        Assert.Equal("terminal", user.GetProperty("source").GetString());
        var message = events.First(e => e.GetProperty("type").GetString() == "message").GetProperty("data");
        Assert.Equal("PONG:typed by hand", message.GetProperty("text").GetString());

        // And chat/send goes on in the same conversation.
        var next = await run.SendAsync(s.Id, "and from the chat");
        Assert.Equal("PONG:and from the chat", next.GetProperty("text").GetString());
        var turn2 = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Contains(turn2.Conversation, m => m.Role == "user" && m.Text == "typed by hand");
    }

    [Fact(Timeout = 180000)]
    public async Task Codex_WithAModelTheServerRejects_FailsTheTurn_WithTheAgentsOwnMessage_WithoutHanging()
    {
        // Like the real API: an unknown model is refused (HTTP 404) at the first request.
        await using var server = await FakeCodexServer.StartAsync(turn =>
            (turn.Request.Body as JsonObject)?["model"]?.GetValue<string>() is "fake-model"
                ? FakeReply.Say("PONG:" + turn.LastUserText)
                : FakeReply.Error(404, "The model `no-such-model` does not exist"));
        await using var run = await AgentRun.CodexAsync(server, "model");
        var start = await run.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = run.Workspace, ["provider"] = "codex", ["model"] = "no-such-model" }, Wait);
        Assert.Equal("active", start.GetProperty("status").GetString());
        var id = start.GetProperty("id").GetString()!;

        var turn = await run.SendAsync(id, "hello");
        Assert.Equal("failed", turn.GetProperty("status").GetString());
        var reason = turn.GetProperty("reason").GetString()!;
        Assert.StartsWith("the agent reported an error: ", reason, StringComparison.Ordinal);
        Assert.True(reason.Length > "the agent reported an error: ".Length + 5, reason);
        var first = await server.WaitForTurnAsync(1, Wait, Ct);
        Assert.Equal("no-such-model", (first.Request.Body as JsonObject)?["model"]?.GetValue<string>());
    }

    [Fact(Timeout = 180000)]
    public async Task Codex_WithAMalformedLineInItsTranscript_ReportsIt_AndChatGoesOn()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "malformed");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:first", (await run.SendAsync(s.Id, "first")).GetProperty("text").GetString());

        // Something writes a broken, unterminated-then-terminated line into the rollout file.
        var rollout = CodexHome.RolloutFiles(run.Home).Single();
        await File.AppendAllTextAsync(rollout, "{\"timestamp\": \"2026-01-01\", \"type\": \"event_msg\", \"payload\": {broken\n", Ct);

        var second = await run.SendAsync(s.Id, "second");
        Assert.Equal("completed", second.GetProperty("status").GetString());
        Assert.Equal("PONG:second", second.GetProperty("text").GetString());
        var events = await run.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("system") });
        var error = events.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "error").GetProperty("data");
        Assert.Equal("transcript", error.GetProperty("source").GetString());
        Assert.Contains("transcript", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
