using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>/clear and /new with the real Codex and Auggie, and the metrics they produce at a fake receiver.</summary>
public sealed class TransitionAgentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<List<string>> ChainAsync(RpcClient c, string first)
    {
        var chain = new List<string> { first };
        while (true)
        {
            var s = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = chain[^1] });
            if (!s.TryGetProperty("transitionedTo", out var next))
            {
                return chain;
            }

            chain.Add(next.GetString()!);
        }
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_ThreeClearsWithMessagesBetween_MakeAChainOfFour_EachWithItsOwnConversation()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "clears", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        var ids = new List<string> { s.Id };
        Assert.Equal("PONG:m0", (await run.SendAsync(s.Id, "m0")).GetProperty("text").GetString());
        for (var i = 1; i <= 3; i++)
        {
            var cleared = await run.Client.RequestAsync("session/clear", new JsonObject { ["sessionId"] = ids[^1] }, Wait);
            Assert.Equal(ids[^1], cleared.GetProperty("current").GetProperty("transitionedFrom").GetString());
            ids.Add(cleared.GetProperty("current").GetProperty("id").GetString()!);
            Assert.Equal($"PONG:m{i}", (await run.SendAsync(ids[^1], $"m{i}")).GetProperty("text").GetString());
        }

        Assert.Equal(ids, await ChainAsync(run.Client, s.Id));

        // Codex really started a new conversation each time: the request after a clear has no old history.
        var last = await server.WaitForTurnAsync(4, Wait, Ct);
        Assert.Equal(["user:m3"], last.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        Assert.Equal("cleared", last.HistoryInitialization);

        // Each session found its own rollout file: four different agent conversation ids.
        var agentIds = new List<string>();
        foreach (var id in ids)
        {
            var view = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = id });
            agentIds.Add(view.GetProperty("agentSessionId").GetString()!);
            Assert.Equal(2, (await run.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = id })).GetProperty("messages").GetArrayLength());
        }

        Assert.Equal(4, agentIds.Distinct().Count());

        await run.Client.RequestAsync("session/end", new JsonObject { ["sessionId"] = ids[^1] });
        await run.Client.RequestAsync("metrics/flush", null);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(["start", "usage", i < 3 ? "end:clear" : "end:exit"], receiver.KindsOf(ids[i]));
        }

        var end0 = receiver.Records.Single(r => r.GetProperty("sessionId").GetString() == ids[0] && r.GetProperty("kind").GetString() == "end");
        Assert.Equal(agentIds[0], end0.GetProperty("agentSessionId").GetString());
        Assert.Equal(0, receiver.Duplicates);
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_ClearTypedIntoItsTerminal_WithNoMessageBefore_EndsAndStartsSessions_AndTheNextMessageIsNew()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "typed-clear", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "/clear" });
        await Waits.TypedAsync(run.Client, s.AgentWorkerId, "/clear");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });
        var note = await run.Client.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/transitioned", Wait);
        var newId = note.GetProperty("params").GetProperty("current").GetProperty("id").GetString()!;

        // END(old) and START(new) arrive at once (the periodic sync is 300 s away).
        await receiver.WaitUntilAsync(r => r.KindsOf(s.Id).Contains("end:clear") && r.KindsOf(newId).Contains("start"), TimeSpan.FromSeconds(10));
        Assert.Equal("PONG:fresh", (await run.SendAsync(newId, "fresh")).GetProperty("text").GetString());
        var view = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = newId });
        Assert.Equal((await server.WaitForTurnAsync(1, Wait, Ct)).SessionId, view.GetProperty("agentSessionId").GetString());
    }

    [Fact(Timeout = 240000)]
    public async Task Auggie_NewTypedIntoItsTerminal_IsATransition_AndTheNextMessageHasNoHistory()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "typed-new", metrics: receiver);
        var s = await run.StartSessionAsync("auggie");
        Assert.Equal("PONG:before", (await run.SendAsync(s.Id, "before")).GetProperty("text").GetString());

        // Auggie's /new: the text, Enter to pick the menu entry, Enter to run it, paced as a person
        // types. Deliberately not paced by the screen: in full runs the screen has been seen without
        // Auggie's input box after an answer while Auggie took the keys (see the closing note of
        // session 5); the transition below is the observable that matters.
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "/new" });
        await Task.Delay(300, Ct);
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });
        await Task.Delay(500, Ct);
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });
        var note = await run.Client.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/transitioned", Wait);
        var newId = note.GetProperty("params").GetProperty("current").GetProperty("id").GetString()!;
        await Task.Delay(800, Ct); // Auggie redraws after /new; a message typed during it is lost (paced, as above)

        Assert.Equal("PONG:after", (await run.SendAsync(newId, "after")).GetProperty("text").GetString());
        var chat = await server.WaitForChatAsync(2, Wait, Ct);
        Assert.Empty(chat.History);
        var oldView = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id });
        var newView = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = newId });
        Assert.NotEqual(oldView.GetProperty("agentSessionId").GetString(), newView.GetProperty("agentSessionId").GetString());
        Assert.Equal(chat.ConversationId, newView.GetProperty("agentSessionId").GetString());
        await receiver.WaitUntilAsync(r => r.KindsOf(s.Id).Contains("end:clear"), TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_QuitByTheUser_CompletesTheSession_WithStartUsageAndEndSynced()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "quit", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        await run.SendAsync(s.Id, "one");
        await run.SendAsync(s.Id, "two");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "/quit" });
        await Waits.TypedAsync(run.Client, s.AgentWorkerId, "/quit");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });

        var done = await Waits.StatusAsync(run.Client, s.Id, "completed");
        Assert.Equal("exit", done.GetProperty("statusReason").GetString());
        await receiver.WaitUntilAsync(r => r.KindsOf(s.Id).Contains("end:exit"), TimeSpan.FromSeconds(10));
        Assert.Equal(["start", "usage", "usage", "end:exit"], receiver.KindsOf(s.Id));
        var usage = receiver.Records.Where(r => r.GetProperty("sessionId").GetString() == s.Id && r.GetProperty("kind").GetString() == "usage").ToList();
        Assert.All(usage, u => Assert.True(u.GetProperty("usage").GetProperty("outputTokens").GetInt64() > 0));
        Assert.Equal(0, (await run.Client.RequestAsync("metrics/flush", null)).GetProperty("pending").GetInt64()); // waits for an in-flight send
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_ClearDuringARunningTurn_EndsTheTurnInTheOldSession_AndTheChainIsRight()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "clear-busy", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        server.EnqueueReply(FakeReply.Slow("slow " + string.Join(' ', Enumerable.Repeat("words", 40)), TimeSpan.FromSeconds(20)));
        var slow = run.SendAsync(s.Id, "long question");
        await server.WaitForTurnAsync(1, Wait, Ct);

        var cleared = await run.Client.RequestAsync("session/clear", new JsonObject { ["sessionId"] = s.Id }, Wait);
        var newId = cleared.GetProperty("current").GetProperty("id").GetString()!;
        var turn = await slow;
        Assert.Equal("cancelled", turn.GetProperty("status").GetString());
        Assert.Equal(s.Id, turn.GetProperty("sessionId").GetString());

        // The interrupted turn is recorded in the old session, before its final transition event.
        var oldEvents = (await run.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = s.Id })).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal("transition", oldEvents[^1].GetProperty("type").GetString());
        Assert.Contains(oldEvents, e => e.GetProperty("type").GetString() == "turn" && e.GetProperty("data").GetProperty("status").GetString() == "cancelled");
        Assert.Equal("PONG:next", (await run.SendAsync(newId, "next")).GetProperty("text").GetString());
        await receiver.WaitUntilAsync(r => r.KindsOf(s.Id).Contains("end:clear") && r.KindsOf(newId).Contains("start"), TimeSpan.FromSeconds(10));
        Assert.Equal(["start", "usage", "end:clear"], receiver.KindsOf(s.Id));
    }
}
