using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>/clear transitions and the metrics outbox, against the scripted fake agent and a fake metrics receiver.</summary>
public sealed class TransitionTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-clear-").FullName;
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

    private static JsonObject Options(FakeMetricsReceiver? receiver, double intervalSeconds = 300) => new()
    {
        ["providers"] = new JsonObject { ["fake"] = ChatTests.FakeProfile() },
        ["metrics"] = receiver is null ? new JsonObject() : new JsonObject
        {
            ["endpoint"] = receiver.Url.ToString(),
            ["intervalSeconds"] = intervalSeconds,
            ["backoffSeconds"] = 0.2,
            ["maxBackoffSeconds"] = 1,
            ["headers"] = new JsonObject { ["Authorization"] = new JsonObject { ["env"] = "METRICS_TOKEN" } },
        },
    };

    private async Task<(SidecarProcess Sidecar, string SessionId, string AgentId)> StartAsync(FakeMetricsReceiver? receiver, string? dataDir = null)
    {
        var sidecar = await SidecarProcess.StartAsync(dataDir ?? DataDir, initializationOptions: Options(receiver), environment: new Dictionary<string, string> { ["METRICS_TOKEN"] = "Bearer secret-token-123" });
        var ws = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(ws);
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "fake", ["taskId"] = "TASK-7" });
        return (sidecar, s.GetProperty("id").GetString()!, s.GetProperty("workers")[0].GetProperty("id").GetString()!);
    }

    private static Task<JsonElement> SendAsync(RpcClient c, string sid, string text) =>
        c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = text }, Wait);

    [Fact(Timeout = 60000)]
    public async Task SessionClear_EndsTheOldSession_StartsALinkedNewOne_AndTheAgentGoesOn()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        var (sidecar, sid, agentId) = await StartAsync(receiver);
        await using var _ = sidecar;
        var c = sidecar.Client;
        var attach = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid })).GetProperty("attachId").GetString()!;
        Assert.Equal("ECHO[1]:before", (await SendAsync(c, sid, "before")).GetProperty("text").GetString());

        var result = await c.RequestAsync("session/clear", new JsonObject { ["sessionId"] = sid });
        var previous = result.GetProperty("previous");
        var current = result.GetProperty("current");
        var newId = current.GetProperty("id").GetString()!;
        Assert.Equal(sid, previous.GetProperty("id").GetString());
        Assert.Equal("completed", previous.GetProperty("status").GetString());
        Assert.Equal(newId, previous.GetProperty("transitionedTo").GetString());
        Assert.True(previous.TryGetProperty("endedAt", out var endedAt) && endedAt.GetString()!.Length > 0);
        Assert.Equal("active", current.GetProperty("status").GetString());
        Assert.Equal(sid, current.GetProperty("transitionedFrom").GetString());
        Assert.Equal("TASK-7", current.GetProperty("taskId").GetString());
        Assert.Equal(agentId, current.GetProperty("workers")[0].GetProperty("id").GetString());

        // Every client is told; the agent process is the same and starts over.
        var note = await c.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/transitioned", Wait);
        Assert.Equal(newId, note.GetProperty("params").GetProperty("current").GetProperty("id").GetString());
        Assert.Equal("ECHO[1]:after", (await SendAsync(c, newId, "after")).GetProperty("text").GetString());

        // The attachment to the old session followed the chain: old events, its final transition, then the new session's.
        var events = await c.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("sessionId").GetString() == newId && x.GetProperty("type").GetString() == "turn"), Wait);
        var lastOld = events.FindLastIndex(e => e.GetProperty("sessionId").GetString() == sid);
        Assert.Equal("transition", events[lastOld].GetProperty("type").GetString());
        Assert.Equal(newId, events[lastOld].GetProperty("data").GetProperty("to").GetString());
        Assert.Equal("transition", events[lastOld + 1].GetProperty("type").GetString());
        Assert.Equal(1, events[lastOld + 1].GetProperty("seq").GetInt64());
        Assert.All(events[(lastOld + 1)..], e => Assert.Equal(newId, e.GetProperty("sessionId").GetString()));

        // END(old) and START(new) reached the endpoint long before the 300 s periodic sync, with the token from the environment.
        await receiver.WaitUntilAsync(r => r.KindsOf(sid).Contains("end:clear") && r.KindsOf(newId).Contains("start"), TimeSpan.FromSeconds(10));
        Assert.Equal(["start", "usage", "end:clear"], receiver.KindsOf(sid));
        Assert.Contains("Bearer secret-token-123", receiver.AuthorizationHeaders);
        Assert.DoesNotContain("secret-token-123", sidecar.Stderr, StringComparison.Ordinal);
        var list = await c.RequestAsync("session/list", new JsonObject { ["taskId"] = "TASK-7" });
        Assert.Equal(2, list.GetProperty("sessions").GetArrayLength());
    }

    [Fact(Timeout = 60000)]
    public async Task ClearTypedIntoTheTerminal_IsATransitionToo()
    {
        var (sidecar, sid, agentId) = await StartAsync(null);
        await using var _ = sidecar;
        var c = sidecar.Client;
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = agentId, ["data"] = "/clea" });
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = agentId, ["data"] = "r\r" });
        var note = await c.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/transitioned", Wait);
        var current = note.GetProperty("params").GetProperty("current");
        Assert.Equal(sid, current.GetProperty("transitionedFrom").GetString());
        var old = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("completed", old.GetProperty("status").GetString());
        Assert.Equal("ECHO[1]:hi", (await SendAsync(c, current.GetProperty("id").GetString()!, "hi")).GetProperty("text").GetString());
    }

    [Fact(Timeout = 90000)]
    public async Task FiveQuickClears_MakeAChainOfSix_WithEveryStartAndEndExactlyOnce()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        var (sidecar, sid, agentId) = await StartAsync(receiver);
        await using var _ = sidecar;
        var c = sidecar.Client;

        // Typed in the terminal, back to back, without waiting for anything.
        for (var i = 0; i < 5; i++)
        {
            await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = agentId, ["data"] = "/clear\r" });
        }

        var chain = new List<string> { sid };
        var deadline = DateTime.UtcNow + Wait;
        while (chain.Count < 6 && DateTime.UtcNow < deadline)
        {
            var s = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = chain[^1] });
            if (s.TryGetProperty("transitionedTo", out var next))
            {
                var n = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = next.GetString() });
                Assert.Equal(chain[^1], n.GetProperty("transitionedFrom").GetString());
                chain.Add(next.GetString()!);
            }
            else
            {
                await Task.Delay(50, Ct);
            }
        }

        Assert.Equal(6, chain.Count);
        await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = chain[^1] });
        await c.RequestAsync("metrics/flush", null);
        await receiver.WaitUntilAsync(r => r.KindsOf(chain[^1]).Contains("end:exit"), TimeSpan.FromSeconds(10));
        for (var i = 0; i < 6; i++)
        {
            var kinds = receiver.KindsOf(chain[i]);
            Assert.Equal(1, kinds.Count(k => k == "start"));
            Assert.Equal(1, kinds.Count(k => k.StartsWith("end:", StringComparison.Ordinal)));
            Assert.Equal(i < 5 ? "end:clear" : "end:exit", kinds.Single(k => k.StartsWith("end:", StringComparison.Ordinal)));
        }

        Assert.Equal(0, receiver.Duplicates);
        var status = await c.RequestAsync("metrics/flush", null); // waits for an in-flight send
        Assert.Equal(0, status.GetProperty("pending").GetInt64());
    }

    [Fact(Timeout = 90000)]
    public async Task ReceiverDownForAWhile_ThenUp_GetsEveryRecordExactlyOnce()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        receiver.Down = true;
        var (sidecar, sid, _) = await StartAsync(receiver);
        await using var __ = sidecar;
        var c = sidecar.Client;
        await SendAsync(c, sid, "one");
        var cleared = await c.RequestAsync("session/clear", new JsonObject { ["sessionId"] = sid });
        var newId = cleared.GetProperty("current").GetProperty("id").GetString()!;
        await SendAsync(c, newId, "two");
        await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = newId });

        // While it is down: nothing is lost, the status says why, and sessions were never held up.
        await receiver.WaitUntilAsync(r => r.RejectedPosts >= 2, TimeSpan.FromSeconds(20));
        var down = await c.RequestAsync("metrics/status", null);
        Assert.True(down.GetProperty("pending").GetInt64() >= 6);
        Assert.Contains("503", down.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        // The editor is told too, as a warning (window/logMessage), without the header's secret value.
        var log = await c.WaitForNotificationAsync(n => n.GetProperty("method").GetString() == "window/logMessage", Wait);
        Assert.Equal(2, log.GetProperty("params").GetProperty("type").GetInt32());
        Assert.Contains("503", log.GetProperty("params").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token-123", log.GetRawText(), StringComparison.Ordinal);

        receiver.Down = false;
        try
        {
            await receiver.WaitUntilAsync(r => r.KindsOf(newId).Contains("end:exit"), TimeSpan.FromSeconds(20));
        }
        catch (TaskCanceledException)
        {
            var st = await c.RequestAsync("metrics/status", null);
            Assert.Fail($"not delivered: status {st.GetRawText()}; posts {receiver.Posts}, rejected {receiver.RejectedPosts}, records {receiver.Records.Count}; stderr: {sidecar.Stderr}");
        }

        Assert.Equal(["start", "usage", "end:clear"], receiver.KindsOf(sid));
        Assert.Equal(["start", "usage", "end:exit"], receiver.KindsOf(newId));
        Assert.Equal(0, receiver.Duplicates);
        Assert.Equal(0, (await c.RequestAsync("metrics/flush", null)).GetProperty("pending").GetInt64()); // waits for an in-flight send
    }

    [Fact(Timeout = 90000)]
    public async Task SidecarKilledBeforeSending_SendsTheRecordsAfterRestart_ExactlyOnce()
    {
        await using var receiver = await FakeMetricsReceiver.StartAsync();
        receiver.Down = true;
        var (sidecar, sid, _) = await StartAsync(receiver);
        await SendAsync(sidecar.Client, sid, "one");
        var pending = (await sidecar.Client.RequestAsync("metrics/status", null)).GetProperty("pending").GetInt64();
        Assert.True(pending >= 2);
        sidecar.Kill(); // SIGKILL: the records are written, not sent
        await sidecar.WaitForExitAsync(Wait);
        await sidecar.DisposeAsync();

        receiver.Down = false;
        await using var again = await SidecarProcess.StartAsync(DataDir, initializationOptions: Options(receiver), environment: new Dictionary<string, string> { ["METRICS_TOKEN"] = "Bearer x" });
        var flushed = await again.Client.RequestAsync("metrics/flush", null);
        Assert.Equal(0, flushed.GetProperty("pending").GetInt64());
        // The restarted sidecar found the session's owner dead: it is suspended (END "suspend"), resumable.
        Assert.Equal(["start", "usage", "end:suspend"], receiver.KindsOf(sid));
        Assert.Equal(0, receiver.Duplicates);
    }
}
