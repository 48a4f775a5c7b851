using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>The metrics cases of the /clear issue with the real Codex (4, 5, 7 and 8 of its list).</summary>
public sealed class MetricsAgentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void AssertEachStartAndEndOnce(FakeMetricsReceiver receiver, IReadOnlyList<string> chain, string lastEnd)
    {
        for (var i = 0; i < chain.Count; i++)
        {
            var kinds = receiver.KindsOf(chain[i]);
            Assert.Equal(1, kinds.Count(k => k == "start"));
            Assert.Equal([i < chain.Count - 1 ? "end:clear" : lastEnd], kinds.Where(k => k.StartsWith("end:", StringComparison.Ordinal)).ToList());
        }

        Assert.Equal(0, receiver.Duplicates);
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_ClearWithNoMessagesBeforeOrAfter_StillMakesTheRightChainAndMetrics()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "clear-empty", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        var cleared = await run.Client.RequestAsync("session/clear", new JsonObject { ["sessionId"] = s.Id }, Wait);
        var newId = cleared.GetProperty("current").GetProperty("id").GetString()!;
        await run.Client.RequestAsync("session/end", new JsonObject { ["sessionId"] = newId });
        Assert.Equal(0, (await run.Client.RequestAsync("metrics/flush", null)).GetProperty("pending").GetInt64());
        AssertEachStartAndEndOnce(receiver, [s.Id, newId], "end:exit");
        Assert.DoesNotContain(server.Requests, r => r.Path.EndsWith("/responses", StringComparison.Ordinal));
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_FiveClearsInQuickSuccession_TypedInItsTerminal_MakeAChainOfSix()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "five-clears", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        // Quick, but at a pace a person could type: Codex takes a burst written within microseconds
        // as one paste, and then sends part of it as a message. The delay paces the input on purpose
        // (the test is about clears in quick succession, so it must not wait for each to finish).
        for (var i = 0; i < 5; i++)
        {
            await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "/clear\r" });
            await Task.Delay(200, Ct);
        }

        var chain = new List<string> { s.Id };
        var deadline = DateTime.UtcNow + Wait;
        while (chain.Count < 6 && DateTime.UtcNow < deadline)
        {
            var view = await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = chain[^1] });
            if (view.TryGetProperty("transitionedTo", out var next))
            {
                chain.Add(next.GetString()!);
            }
            else
            {
                await Task.Delay(50, Ct);
            }
        }

        Assert.Equal(6, chain.Count);

        // The agent is fine afterwards, in the last session.
        Assert.Equal("PONG:still here", (await run.SendAsync(chain[^1], "still here")).GetProperty("text").GetString());
        await run.Client.RequestAsync("session/end", new JsonObject { ["sessionId"] = chain[^1] });
        Assert.Equal(0, (await run.Client.RequestAsync("metrics/flush", null)).GetProperty("pending").GetInt64());
        AssertEachStartAndEndOnce(receiver, chain, "end:exit");
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_ReceiverDownThenUp_GetsEveryRecordExactlyOnce()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        receiver.Down = true;
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "down-up", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        await run.SendAsync(s.Id, "one");
        var cleared = await run.Client.RequestAsync("session/clear", new JsonObject { ["sessionId"] = s.Id }, Wait);
        var newId = cleared.GetProperty("current").GetProperty("id").GetString()!;
        await run.SendAsync(newId, "two");
        await receiver.WaitUntilAsync(r => r.RejectedPosts >= 2, TimeSpan.FromSeconds(30));

        receiver.Down = false;
        await run.Client.RequestAsync("session/end", new JsonObject { ["sessionId"] = newId });
        await receiver.WaitUntilAsync(r => r.KindsOf(newId).Contains("end:exit"), TimeSpan.FromSeconds(30));
        Assert.Equal(["start", "usage", "end:clear"], receiver.KindsOf(s.Id));
        Assert.Equal(["start", "usage", "end:exit"], receiver.KindsOf(newId));
        Assert.Equal(0, receiver.Duplicates);
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_SidecarKilledBetweenWritingAndSending_SendsAfterRestart_ExactlyOnce()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        receiver.Down = true;
        await using var server = await FakeCodexServer.StartAsync();
        var run = await AgentRun.CodexAsync(server, "kill", metrics: receiver);
        var s = await run.StartSessionAsync("codex");
        await run.SendAsync(s.Id, "one");
        Assert.True((await run.Client.RequestAsync("metrics/status", null)).GetProperty("pending").GetInt64() >= 2);
        run.Sidecar.Kill(); // SIGKILL: written, not sent
        await run.Sidecar.WaitForExitAsync(Wait);

        receiver.Down = false;
        var options = new JsonObject { ["metrics"] = new JsonObject { ["endpoint"] = receiver.Url.ToString(), ["intervalSeconds"] = 300 } };
        await using (var again = await SidecarProcess.StartAsync(run.SidecarDir, home: run.HomeDir, initializationOptions: options))
        {
            Assert.Equal(0, (await again.Client.RequestAsync("metrics/flush", null)).GetProperty("pending").GetInt64());
        }

        // The new sidecar found the session's owner dead: suspended (END "suspend"), resumable.
        Assert.Equal(["start", "usage", "end:suspend"], receiver.KindsOf(s.Id));
        Assert.Equal(0, receiver.Duplicates);
        await run.DisposeAsync();
    }
}
