using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// The session layer's defects, each reproduced against the built sidecar: ended sessions that came
/// back active, clears that did not transition (or did when they should not), turns that never
/// ended, a start that could not be cancelled.
/// </summary>
public sealed class CoreSoundnessTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-core-").FullName;
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

    private string Workspace()
    {
        var ws = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(ws);
        return ws;
    }

    private async Task<(SidecarProcess Sidecar, string SessionId, string AgentId)> StartFakeAsync(JsonObject? profile = null)
    {
        var options = new JsonObject { ["providers"] = new JsonObject { ["fake"] = profile ?? ChatTests.FakeProfile() } };
        var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: options);
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = Workspace(), ["provider"] = "fake" });
        return (sidecar, s.GetProperty("id").GetString()!, s.GetProperty("workers")[0].GetProperty("id").GetString()!);
    }

    private static async Task<List<JsonElement>> AllEventsAsync(RpcClient c, string sessionId, string? channel = null)
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var p = new JsonObject { ["sessionId"] = sessionId, ["afterSeq"] = after, ["limit"] = 1000 };
            if (channel is not null)
            {
                p["channels"] = new JsonArray(channel);
            }

            var page = await c.RequestAsync("session/events", p);
            var events = page.GetProperty("events").EnumerateArray().ToList();
            all.AddRange(events);
            if (!page.GetProperty("hasMore").GetBoolean() || events.Count == 0)
            {
                return all;
            }

            after = events[^1].GetProperty("seq").GetInt64();
        }
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition, string what) => Waits.UntilAsync(condition, Wait, what);

    [Theory(Timeout = 180000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AgentThatExitsAtOnce_TwoHundredStarts_NoEndedSessionComesBackActive(bool withChat)
    {
        // A provider whose program exits at once: the stop path races the start's "active". As a
        // plain terminal, and as an agent (with a ready signal it never gives).
        var quitter = new JsonObject { ["command"] = "/bin/false" };
        if (withChat)
        {
            quitter["ready"] = new JsonObject { ["osc"] = "^7501;state=idle" };
            quitter["readyTimeoutSeconds"] = 5;
        }

        var options = new JsonObject { ["providers"] = new JsonObject { ["quitter"] = quitter } };
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: options);
        var c = sidecar.Client;
        var ws = Workspace();
        // Eight at a time: the writer is busy, which widens the window the race needs.
        for (var batch = 0; batch < 25; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                try
                {
                    await c.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "quitter", ["reuse"] = false });
                }
                catch (RpcErrorException)
                {
                    // A start may report that the program could not be started; the session is then failed too.
                }
            }));
        }

        var all = (await c.RequestAsync("session/list", new JsonObject { ["workspace"] = ws, ["limit"] = 1000 })).GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
        Assert.Equal(200, all.Count);

        // Every start has answered, so any late "active" has been written by now; each session ends.
        await WaitUntilAsync(async () =>
        {
            var list = await c.RequestAsync("session/list", new JsonObject { ["workspace"] = ws, ["limit"] = 1000 });
            return list.GetProperty("sessions").EnumerateArray().All(s => s.GetProperty("status").GetString() is "completed" or "failed");
        }, "every session to end");

        foreach (var id in all)
        {
            var events = await AllEventsAsync(c, id);
            var statuses = events.Where(e => e.GetProperty("type").GetString() == "status").Select(e => e.GetProperty("data").GetProperty("status").GetString()).ToList();
            var end = statuses.FindIndex(s => s is "completed" or "failed");
            Assert.True(end >= 0, $"session {id} never ended: {string.Join(" → ", statuses)}");
            Assert.Equal(statuses.Count - 1, end);
            var metrics = events.Where(e => e.GetProperty("channel").GetString() == "metrics").Select(e => e.GetProperty("type").GetString()).ToList();
            Assert.Equal(metrics.Count(m => m == "start"), metrics.Count(m => m == "end"));
            Assert.Equal(1, metrics.Count(m => m == "start"));
        }

        // …and it stays so through a graceful shutdown.
        await c.RequestAsync("shutdown", null);
        await c.NotifyAsync("exit", null);
        await sidecar.WaitForExitAsync(Wait);
        await using var next = await SidecarProcess.StartAsync(DataDir, initializationOptions: options.DeepClone().AsObject());
        foreach (var id in all)
        {
            var s = await next.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = id });
            Assert.Contains(s.GetProperty("status").GetString(), new[] { "completed", "failed" });
            var metrics = await AllEventsAsync(next.Client, id, "metrics");
            Assert.Equal(1, metrics.Count(m => m.GetProperty("type").GetString() == "end"));
        }
    }

    [Fact(Timeout = 60000)]
    public async Task ATurnWhoseAgentNeverSignalsDone_EndsFailedWithTheScreenTail_AndTheSessionCanBeSuspended()
    {
        var profile = ChatTests.FakeProfile();
        profile["turnIdleSeconds"] = 1.5;
        var (sidecar, sid, _) = await StartFakeAsync(profile);
        await using var owned = sidecar;
        var c = sidecar.Client;

        var result = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "hang on" }, Wait);
        Assert.Equal("failed", result.GetProperty("status").GetString());
        var reason = result.GetProperty("reason").GetString()!;
        Assert.Contains("no sign of work", reason, StringComparison.Ordinal);
        Assert.Contains("thinking about hang on", reason, StringComparison.Ordinal);

        // Nothing waits on that turn any more.
        var suspended = await c.RequestAsync("session/suspend", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task ClearSentAsAChatMessage_TransitionsLikeSessionClear_AndTheAgentStartsOver()
    {
        var (sidecar, sid, agentId) = await StartFakeAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;
        Assert.Equal("ECHO[1]:one", (await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "one" }, Wait)).GetProperty("text").GetString());

        var cleared = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "/clear" }, Wait);
        Assert.Equal("cleared", cleared.GetProperty("status").GetString());
        var newId = cleared.GetProperty("sessionId").GetString()!;
        Assert.NotEqual(sid, newId);
        Assert.Equal(sid, cleared.GetProperty("previousSessionId").GetString());

        var old = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("completed", old.GetProperty("status").GetString());
        Assert.Equal("clear", old.GetProperty("statusReason").GetString());
        Assert.Equal(newId, old.GetProperty("transitionedTo").GetString());
        var last = (await AllEventsAsync(c, sid))[^1];
        Assert.Equal("transition", last.GetProperty("type").GetString());
        Assert.Equal("session/clear", last.GetProperty("data").GetProperty("trigger").GetString());

        // No turn was recorded for the clear, and the same agent goes on with a new conversation.
        var chat = await AllEventsAsync(c, sid, "chat");
        Assert.DoesNotContain(chat, e => e.GetProperty("data").TryGetProperty("text", out var t) && t.GetString() == "/clear");
        var next = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = newId, ["text"] = "two" }, Wait);
        Assert.Equal("ECHO[1]:two", next.GetProperty("text").GetString());

        // What was streamed of the new turn is its own answer, never the old one still on screen.
        var streamed = string.Concat((await AllEventsAsync(c, newId, "chat")).Where(e => e.GetProperty("type").GetString() == "delta").Select(e => e.GetProperty("data").GetProperty("text").GetString()));
        Assert.DoesNotContain("one", streamed, StringComparison.Ordinal);
        Assert.Equal(agentId, (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = newId })).GetProperty("workers")[0].GetProperty("id").GetString());
    }

    [Theory(Timeout = 60000)]
    [InlineData("notes\u001b[201~\r/clear\r")]
    [InlineData("bell\u0007")]
    [InlineData("c1 csi \u009b201~")]
    public async Task ChatTextWithControlCharacters_IsRefusedNamingTheField_AndNothingReachesTheAgent(string text)
    {
        var (sidecar, sid, _) = await StartFakeAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;

        var error = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = text }));
        Assert.Equal(-32602, error.Code);
        Assert.Equal("text", error.ErrorData!.Value.GetProperty("field").GetString());
        Assert.Contains("control character", error.Message, StringComparison.Ordinal);

        // Nothing was recorded or typed: the next message is the agent's first turn, in the same session.
        Assert.Empty(await AllEventsAsync(c, sid, "chat"));
        var next = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "fine\ttext\nwith lines" }, Wait);
        Assert.Equal(sid, next.GetProperty("sessionId").GetString());
        Assert.StartsWith("ECHO[1]:", next.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task AClearInsideABracketedPaste_IsNotACommand_SoTheSessionDoesNotTransition()
    {
        var (sidecar, sid, agentId) = await StartFakeAsync();
        await using var owned = sidecar;
        var c = sidecar.Client;
        var attach = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid })).GetProperty("attachId").GetString()!;

        // The fake agent reads lines, so it does take the pasted "/clear" as one and says so: the
        // keys were processed. The sidecar must not have seen a command in pasted text.
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = agentId, ["data"] = "\u001b[200~notes\r/clear\rend \u001b[201~\r" });
        await c.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "output" && x.GetProperty("data").GetProperty("data").GetString()!.Contains("conversation cleared", StringComparison.Ordinal)), Wait);
        var typed = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "still here" }, Wait);
        Assert.Equal(sid, typed.GetProperty("sessionId").GetString());
        var s = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("active", s.GetProperty("status").GetString());
        Assert.False(s.TryGetProperty("transitionedTo", out _));
        Assert.DoesNotContain(c.Notifications, n => n.GetProperty("method").GetString() == "session/transitioned");

        // The same clear typed key by key is one.
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = agentId, ["data"] = "/clear\r" });
        var note = await c.WaitForNotificationAsync(n => n.GetProperty("method").GetString() == "session/transitioned", Wait);
        Assert.Equal(sid, note.GetProperty("params").GetProperty("previous").GetProperty("id").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task SessionStart_Cancelled_AnswersRequestCancelled_AndLeavesNothingRunning()
    {
        var slow = ChatTests.FakeProfile(new JsonObject { ["FAKE_NEVER_READY"] = "1" }, readyTimeout: 25);
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["providers"] = new JsonObject { ["slow"] = slow } });
        var c = sidecar.Client;
        var ws = Workspace();

        var (id, result) = await c.BeginAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "slow" });
        JsonElement session = default;
        await WaitUntilAsync(async () =>
        {
            var list = (await c.RequestAsync("session/list", new JsonObject { ["workspace"] = ws })).GetProperty("sessions").EnumerateArray().ToList();
            session = list.FirstOrDefault();
            return session.ValueKind == JsonValueKind.Object && session.GetProperty("workers").GetArrayLength() > 0;
        }, "the starting session and its agent");
        var sid = session.GetProperty("id").GetString()!;
        var pid = session.GetProperty("workers")[0].GetProperty("pid").GetInt32();
        Assert.Equal("created", session.GetProperty("status").GetString());

        await c.NotifyAsync("$/cancelRequest", new JsonObject { ["id"] = id });
        var error = await Assert.ThrowsAsync<RpcErrorException>(() => result);
        Assert.Equal(-32800, error.Code);
        var ended = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("failed", ended.GetProperty("status").GetString());
        Assert.Contains("cancelled", ended.GetProperty("statusReason").GetString(), StringComparison.Ordinal);
        Assert.False(ShellSessionTests.IsAlive(pid), $"the agent {pid} of a cancelled start still runs");
    }
}
