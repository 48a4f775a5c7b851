using System.Text.Json.Nodes;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>The real Auggie TUI in a PTY through the sidecar, against a fake Augment tenant on 127.0.0.1.</summary>
public sealed class AuggieChatTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 180000)]
    public async Task Auggie_BecomesReady_AnswersThroughChatSend_AndKeepsTheConversation()
    {
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "chat");
        var s = await run.StartSessionAsync("auggie");
        Assert.Equal("active", s.Status);

        var first = await run.SendAsync(s.Id, "hello one");
        Assert.Equal("completed", first.GetProperty("status").GetString());
        Assert.Equal("PONG:hello one", first.GetProperty("text").GetString());
        var second = await run.SendAsync(s.Id, "second msg");
        Assert.Equal("PONG:second msg", second.GetProperty("text").GetString());

        var chat2 = await server.WaitForChatAsync(2, Wait, Ct);
        Assert.Equal(["hello one:PONG:hello one"], chat2.History.Select(h => $"{h.User}:{h.Assistant}").ToList());

        var session = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id });
        Assert.Equal(chat2.ConversationId, session.GetProperty("agentSessionId").GetString());
    }

    [Fact(Timeout = 180000)]
    public async Task Auggie_CancelDuringASlowAnswer_InterruptsTheTurn_AndTheNextMessageWorks()
    {
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "cancel");
        var s = await run.StartSessionAsync("auggie");
        // Lines of their own: Auggie draws a streaming answer a whole line at a time, so one long
        // line showed nothing until the answer was complete (the cancel then came too late).
        server.EnqueueReply(FakeReply.Slow(string.Join("\n\n", Enumerable.Range(1, 20).Select(i => $"tortoise line {i}.")), TimeSpan.FromSeconds(20)));
        var slow = run.SendAsync(s.Id, "take your time");
        await server.WaitForChatAsync(1, Wait, Ct);
        await Waits.ScreenAsync(run.Client, s.AgentWorkerId, "the slow answer streaming on Auggie's screen", lines => lines.Any(l => l.Contains("tortoise", StringComparison.Ordinal)));
        await run.Client.RequestAsync("chat/cancel", new JsonObject { ["sessionId"] = s.Id });
        var result = await slow;
        Assert.Equal("cancelled", result.GetProperty("status").GetString());

        var next = await run.SendAsync(s.Id, "are you there");
        Assert.Equal("PONG:are you there", next.GetProperty("text").GetString());
    }

    [Fact(Timeout = 180000)]
    public async Task Auggie_ExitingMidTurn_FailsTheTurnAndTheSession()
    {
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "exit");
        var s = await run.StartSessionAsync("auggie");
        server.EnqueueReply(FakeReply.Slow("never finished", TimeSpan.FromSeconds(30)));
        var turn = run.SendAsync(s.Id, "start something long");
        await server.WaitForChatAsync(1, Wait, Ct);
        System.Diagnostics.Process.GetProcessById(s.AgentPid).Kill();

        var result = await turn;
        Assert.Equal("failed", result.GetProperty("status").GetString());
        await Waits.StatusAsync(run.Client, s.Id, "failed");
    }
}
