using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// <c>session/resume</c> on ended sessions that cannot be continued (issue 17, part 2): each gets
/// 1004 with <c>data.reason</c> saying why, and the session stays as it was. The continues that work
/// run with the real Codex in AgentSidecar.Agents.Tests (ContinueAgentTests).
/// </summary>
public sealed class ContinueTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-cont-").FullName;

    public ContinueTests()
    {
        Workspace = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(Workspace);
    }

    private string Workspace { get; }

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

    private static JsonObject Id(string sessionId) => new() { ["sessionId"] = sessionId };

    private Task<SidecarProcess> StartSidecarAsync()
    {
        // The fake agent can resume (resumeArgs) but keeps no transcript, so it never records a conversation id.
        var fake = ChatTests.FakeProfile();
        fake["quit"] = "/quit";
        fake["resumeArgs"] = new JsonArray("--resume", "{agentSessionId}");
        return SidecarProcess.StartAsync(Path.Combine(_dir, "data"), initializationOptions: new JsonObject { ["providers"] = new JsonObject { ["fake"] = fake } });
    }

    private async Task<string> StartAsync(RpcClient c, string provider) =>
        (await c.RequestAsync("session/start", new JsonObject { ["workspace"] = Workspace, ["provider"] = provider, ["reuse"] = false }, Wait)).GetProperty("id").GetString()!;

    private static async Task<RpcErrorException> RefusedAsync(RpcClient c, string sessionId, string reason)
    {
        var before = await c.RequestAsync("session/get", Id(sessionId));
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/resume", Id(sessionId), Wait));
        Assert.Equal(1004, ex.Code);
        Assert.Equal(reason, ex.ErrorData!.Value.GetProperty("reason").GetString());
        Assert.Contains(sessionId, ex.Message, StringComparison.Ordinal);

        // Nothing changed: same status, reason and last event.
        var after = await c.RequestAsync("session/get", Id(sessionId));
        foreach (var field in new[] { "status", "statusReason", "endedAt" })
        {
            Assert.Equal(Str(before, field), Str(after, field));
        }

        Assert.Equal(before.GetProperty("lastSeq").GetInt64(), after.GetProperty("lastSeq").GetInt64());
        return ex;
    }

    [Fact(Timeout = 60000)]
    public async Task Resume_OfAnEndedShellSession_Is1004_NoResume_AndOncePurged_1001()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartAsync(c, "shell");
        await c.RequestAsync("session/end", Id(sid), Wait);
        var ex = await RefusedAsync(c, sid, "no-resume");
        Assert.Contains("'shell'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("completed", ex.ErrorData!.Value.GetProperty("status").GetString());

        // Purged (cleanup of ended sessions): no row left, so nothing to continue.
        var purged = await c.RequestAsync("session/cleanup", new JsonObject { ["purgeOlderThanDays"] = 0 });
        Assert.Contains(sid, purged.GetProperty("purged").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1001, (await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/resume", Id(sid), Wait))).Code);
    }

    [Fact(Timeout = 60000)]
    public async Task Resume_OfAnEndedAgentSessionWithNoRecordedConversation_Is1004_NoConversation()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartAsync(c, "fake");
        Assert.Equal("completed", (await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "hi" }, Wait)).GetProperty("status").GetString());
        await c.RequestAsync("session/end", Id(sid), Wait);
        var ex = await RefusedAsync(c, sid, "no-conversation");
        Assert.Contains("no agent conversation", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Resume_OfAClearedSession_Is1004_Cleared_NamingTheSessionItWentOnIn()
    {
        await using var sidecar = await StartSidecarAsync();
        var c = sidecar.Client;
        var sid = await StartAsync(c, "fake");
        var cleared = await c.RequestAsync("session/clear", Id(sid), Wait);
        var next = cleared.GetProperty("current").GetProperty("id").GetString()!;
        var ex = await RefusedAsync(c, sid, "cleared");
        Assert.Equal(next, ex.ErrorData!.Value.GetProperty("transitionedTo").GetString());
        Assert.Contains(next, ex.Message, StringComparison.Ordinal);
        Assert.Equal("active", (await c.RequestAsync("session/get", Id(next))).GetProperty("status").GetString());
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : null;
}
