using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>The turn logic against a fast scripted fake agent (tests/testdata/agents/fake-agent.sh), through the built sidecar.</summary>
public sealed class ChatTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-chat-").FullName;
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

    internal static JsonObject FakeProfile(JsonObject? env = null, double readyTimeout = 10) => new()
    {
        ["displayName"] = "Fake agent",
        ["command"] = "bash",
        ["args"] = new JsonArray("--norc", Path.Combine(SidecarProcess.RepoRoot, "tests", "testdata", "agents", "fake-agent.sh")),
        ["env"] = env ?? new JsonObject(),
        ["ready"] = new JsonObject { ["osc"] = "^7501;state=idle" },
        ["busy"] = new JsonObject { ["osc"] = "^7501;state=working" },
        ["done"] = new JsonObject { ["osc"] = "^7501;state=done" },
        ["failed"] = new JsonObject { ["osc"] = "^7501;state=error" },
        ["input"] = new JsonObject { ["bracketedPaste"] = false, ["submitSeparately"] = false },
        ["interrupt"] = "\u001b",
        ["answerPattern"] = "^• ",
        ["chromePatterns"] = new JsonArray("^›", "^■"),
        ["clear"] = new JsonObject { ["command"] = "/clear", ["enters"] = 1 },
        ["readyTimeoutSeconds"] = readyTimeout,
        ["features"] = new JsonArray("chat"),
    };

    private async Task<(SidecarProcess Sidecar, string SessionId, JsonElement Session)> StartFakeAsync(JsonObject? profile = null)
    {
        var options = new JsonObject { ["providers"] = new JsonObject { ["fake"] = profile ?? FakeProfile() } };
        var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: options);
        var ws = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(ws);
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "fake" });
        return (sidecar, s.GetProperty("id").GetString()!, s);
    }

    private static Task<JsonElement> SendAsync(RpcClient c, string sid, string text) =>
        c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = text }, Wait);

    [Fact(Timeout = 60000)]
    public async Task ChatSend_TypesIntoTheSameProcess_AndReturnsEachAnswer()
    {
        var (sidecar, sid, session) = await StartFakeAsync();
        await using var _ = sidecar;
        var c = sidecar.Client;
        Assert.Equal("active", session.GetProperty("status").GetString());
        var a = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;

        var first = await SendAsync(c, sid, "hello there");
        Assert.Equal("completed", first.GetProperty("status").GetString());
        Assert.Equal("ECHO[1]:hello there", first.GetProperty("text").GetString());
        var second = await SendAsync(c, sid, "and again");
        Assert.Equal("ECHO[2]:and again", second.GetProperty("text").GetString());

        var events = await c.WaitForEventsAsync(a, e => e.Count(x => x.GetProperty("type").GetString() == "turn") == 2, Wait);
        var types = events.Select(e => e.GetProperty("type").GetString()).Where(t => t != "delta").ToList();
        Assert.Equal(["user", "message", "turn", "user", "message", "turn"], types);
        var turn = events.First(e => e.GetProperty("type").GetString() == "turn").GetProperty("data");
        Assert.Equal(first.GetProperty("turnId").GetString(), turn.GetProperty("turnId").GetString());
        Assert.Equal("completed", turn.GetProperty("status").GetString());

        var history = await c.RequestAsync("chat/history", new JsonObject { ["sessionId"] = sid });
        var messages = history.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList();
        Assert.Equal(["user:hello there", "assistant:ECHO[1]:hello there", "user:and again", "assistant:ECHO[2]:and again"], messages);

        var screen = await c.RequestAsync("worker/screen", new JsonObject { ["workerId"] = session.GetProperty("workers")[0].GetProperty("id").GetString() });
        Assert.Contains(screen.GetProperty("lines").EnumerateArray(), l => l.GetString() == "• ECHO[2]:and again");
        Assert.True(screen.GetProperty("seq").GetInt64() > 0);
        Assert.Contains("ECHO[2]", screen.GetProperty("ansi").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task SlowAnswer_StreamsDeltas_ASecondSendIsBusy_AndCancelInterruptsIt()
    {
        var (sidecar, sid, _) = await StartFakeAsync();
        await using var __ = sidecar;
        var c = sidecar.Client;
        var a = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;

        var slow = SendAsync(c, sid, "slow please");
        await c.WaitForEventsAsync(a, e => e.Count(x => x.GetProperty("type").GetString() == "delta") >= 2, Wait);
        var busy = await Assert.ThrowsAsync<RpcErrorException>(() => SendAsync(c, sid, "meanwhile"));
        Assert.Equal(1003, busy.Code);
        Assert.True((await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("busy").GetBoolean());

        await c.RequestAsync("chat/cancel", new JsonObject { ["sessionId"] = sid });
        var result = await slow;
        Assert.Equal("cancelled", result.GetProperty("status").GetString());
        var partial = result.GetProperty("text").GetString()!;
        Assert.StartsWith("one two", partial, StringComparison.Ordinal);
        Assert.DoesNotContain("ten", partial, StringComparison.Ordinal);

        var deltas = string.Concat(c.Events(a).Where(e => e.GetProperty("type").GetString() == "delta").Select(e => e.GetProperty("data").GetProperty("text").GetString()));
        Assert.StartsWith(deltas.Trim(), partial, StringComparison.Ordinal);

        // The agent goes on: the next message works, in the same process.
        var next = await SendAsync(c, sid, "after cancel");
        Assert.Equal("ECHO[2]:after cancel", next.GetProperty("text").GetString());
        Assert.False((await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("busy").GetBoolean());
    }

    [Fact(Timeout = 60000)]
    public async Task CancelRequest_OnChatSend_InterruptsTheTurn()
    {
        var (sidecar, sid, _) = await StartFakeAsync();
        await using var __ = sidecar;
        var c = sidecar.Client;
        var a = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;
        var body = System.Text.Encoding.UTF8.GetBytes($$$"""{"jsonrpc":"2.0","id":"slow-1","method":"chat/send","params":{"sessionId":"{{{sid}}}","text":"slow down"}}""");
        await c.SendRawAsync(body);

        // Cancelled once the answer is streaming (its first words are on the screen), well before its end.
        await c.WaitForEventsAsync(a, e => e.Any(x => x.GetProperty("type").GetString() == "delta"), Wait);
        await c.NotifyAsync("$/cancelRequest", new JsonObject { ["id"] = "slow-1" });
        var response = await c.WaitForNotificationAsync(n => n.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() == "slow-1", Wait);
        Assert.Equal("cancelled", response.GetProperty("result").GetProperty("status").GetString());
        Assert.DoesNotContain("ten", response.GetProperty("result").GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task AgentDyingMidTurn_FailsTheTurnAndTheSession_WithTheScreenTail()
    {
        var (sidecar, sid, _) = await StartFakeAsync();
        await using var __ = sidecar;
        var c = sidecar.Client;
        var result = await SendAsync(c, sid, "die now");
        Assert.Equal("failed", result.GetProperty("status").GetString());
        Assert.Contains("code 3", result.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var s = await WaitForStatusAsync(c, sid, "failed");
        Assert.Contains("exited", s.GetProperty("statusReason").GetString(), StringComparison.Ordinal);
        var events = await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("system") });
        var error = events.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "error").GetProperty("data");
        Assert.Contains("fatal: the fake agent crashed", error.GetProperty("tail").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task AgentReportingAnError_FailsTheTurn_ButNotTheSession()
    {
        var (sidecar, sid, _) = await StartFakeAsync();
        await using var __ = sidecar;
        var c = sidecar.Client;
        var result = await SendAsync(c, sid, "fail please");
        Assert.Equal("failed", result.GetProperty("status").GetString());
        Assert.Contains("upstream error 500", result.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("ECHO[2]:fine", (await SendAsync(c, sid, "fine")).GetProperty("text").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task AgentNeverReady_FailsTheSessionAfterItsTimeout_WithWhatItShowed()
    {
        var (sidecar, sid, session) = await StartFakeAsync(FakeProfile(new JsonObject { ["FAKE_NEVER_READY"] = "1" }, readyTimeout: 1.5));
        await using var __ = sidecar;
        Assert.Equal("failed", session.GetProperty("status").GetString());
        var events = await sidecar.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("system") });
        var error = events.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "error").GetProperty("data");
        Assert.Contains("not ready within 2 s", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("loading the model forever", error.GetProperty("tail").GetString(), StringComparison.Ordinal);
        var started = events.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "worker");
        Assert.False(ShellSessionTests.IsAlive(started.GetProperty("data").GetProperty("worker").GetProperty("pid").GetInt32()));
    }

    [Fact(Timeout = 60000)]
    public async Task BadChatInput_GetsTheDocumentedErrors()
    {
        var (sidecar, sid, _) = await StartFakeAsync();
        await using var __ = sidecar;
        var c = sidecar.Client;
        var empty = await Assert.ThrowsAsync<RpcErrorException>(() => SendAsync(c, sid, "   "));
        Assert.Equal(-32602, empty.Code);
        Assert.Equal("text", empty.ErrorData!.Value.GetProperty("field").GetString());
        var huge = await Assert.ThrowsAsync<RpcErrorException>(() => SendAsync(c, sid, new string('x', (1 << 20) + 1)));
        Assert.Equal(1007, huge.Code);
        var unknown = await Assert.ThrowsAsync<RpcErrorException>(() => SendAsync(c, "no-such-session", "hi"));
        Assert.Equal(1001, unknown.Code);

        var ws = Path.Combine(_dir, "shell-ws");
        Directory.CreateDirectory(ws);
        var shell = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "shell" });
        var noChat = await Assert.ThrowsAsync<RpcErrorException>(() => SendAsync(c, shell.GetProperty("id").GetString()!, "hi"));
        Assert.Equal(1004, noChat.Code);

        // Still fine afterwards.
        Assert.Equal("ECHO[1]:ok", (await SendAsync(c, sid, "ok")).GetProperty("text").GetString());
    }

    internal static async Task<JsonElement> WaitForStatusAsync(RpcClient c, string sid, string status)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var s = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
            if (s.GetProperty("status").GetString() == status || DateTime.UtcNow > deadline)
            {
                Assert.Equal(status, s.GetProperty("status").GetString());
                return s;
            }

            await Task.Delay(50);
        }
    }
}
