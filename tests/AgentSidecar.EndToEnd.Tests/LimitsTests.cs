using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>Past a limit a request gets 1008 naming it (docs/protocol.md, "Limits"); below it again, the same request works.</summary>
public sealed class LimitsTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-limits-").FullName;
    /// <summary>The data directory: a folder of its own in the test's folder (HOME sits beside it).</summary>
    private string DataDir => Path.Combine(_dir, "data");
    private readonly string _ws = Directory.CreateTempSubdirectory("ws-").FullName;

    public void Dispose()
    {
        foreach (var d in new[] { _dir, _ws })
        {
            try
            {
                Directory.Delete(d, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<RpcErrorException> LimitAsync(Task request, string limit, int max)
    {
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => request);
        Assert.Equal(1008, ex.Code);
        Assert.Equal(limit, ex.ErrorData!.Value.GetProperty("limit").GetString());
        Assert.Equal(max, ex.ErrorData.Value.GetProperty("max").GetInt32());
        Assert.Contains($"limits.{limit}", ex.Message, StringComparison.Ordinal);
        return ex;
    }

    [Fact(Timeout = 60000)]
    public async Task Attachments_PerConnectionAndInTotal()
    {
        var limits = new JsonObject { ["limits"] = new JsonObject { ["attachmentsPerConnection"] = 3, ["attachments"] = 5 } };
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: limits);
        var c = sidecar.Client;
        var sid = (await c.RequestAsync("session/start", new JsonObject { ["workspace"] = _ws, ["provider"] = "shell" })).GetProperty("id").GetString()!;
        var attach = new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("system") };
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await c.RequestAsync("session/attach", attach.DeepClone())).GetProperty("attachId").GetString()!);
        }

        await LimitAsync(c.RequestAsync("session/attach", attach.DeepClone()), "attachmentsPerConnection", 3);
        await c.RequestAsync("session/detach", new JsonObject { ["attachId"] = ids[0] });
        ids[0] = (await c.RequestAsync("session/attach", attach.DeepClone())).GetProperty("attachId").GetString()!;

        var socket = c.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        using var second = await SidecarProcess.ConnectSocketAsync(socket);
        await second.RequestAsync("session/attach", attach.DeepClone());
        await second.RequestAsync("session/attach", attach.DeepClone());
        await LimitAsync(second.RequestAsync("session/attach", attach.DeepClone()), "attachments", 5);

        // A closed connection's attachments are freed.
        second.Dispose();
        using var third = await SidecarProcess.ConnectSocketAsync(socket);
        await Waits.UntilAsync(async () =>
        {
            try
            {
                await third.RequestAsync("session/attach", attach.DeepClone());
                return true;
            }
            catch (RpcErrorException ex) when (ex.Code == 1008)
            {
                return false;
            }
        }, Wait, "the closed connection's attachments to be freed");
    }

    [Fact(Timeout = 60000)]
    public async Task LiveSessions_AndWorkersPerSession()
    {
        var limits = new JsonObject { ["limits"] = new JsonObject { ["sessions"] = 2, ["workersPerSession"] = 2 } };
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: limits);
        var c = sidecar.Client;
        var start = new JsonObject { ["workspace"] = _ws, ["provider"] = "shell", ["reuse"] = false };
        var first = (await c.RequestAsync("session/start", start.DeepClone())).GetProperty("id").GetString()!;
        await c.RequestAsync("session/start", start.DeepClone());
        await LimitAsync(c.RequestAsync("session/start", start.DeepClone()), "sessions", 2);

        // The agent is one worker; one shell more fits, a second does not.
        await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = first, ["command"] = "bash" });
        await LimitAsync(c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = first, ["command"] = "bash" }), "workersPerSession", 2);

        await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = first }, Wait);
        Assert.Equal("active", (await c.RequestAsync("session/start", start.DeepClone())).GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task ABadLimit_FailsInitialize_NamingIt()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initialize: false);
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => sidecar.Client.InitializeAsync(new JsonObject { ["limits"] = new JsonObject { ["sessions"] = 0 } }));
        Assert.Equal(-32602, ex.Code);
        Assert.Equal("initializationOptions.limits", ex.ErrorData!.Value.GetProperty("field").GetString());
        Assert.Contains("limits.sessions", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task AttachmentsOfAnEndedSession_AreFreed_WhenTheClientHasItsLastEvent()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["limits"] = new JsonObject { ["attachmentsPerConnection"] = 2 } });
        var c = sidecar.Client;
        var start = new JsonObject { ["workspace"] = _ws, ["provider"] = "shell", ["reuse"] = false };
        var first = (await c.RequestAsync("session/start", start.DeepClone())).GetProperty("id").GetString()!;
        var attach = (string sid) => new JsonObject { ["sessionId"] = sid };
        var ids = new[] { await c.RequestAsync("session/attach", attach(first)), await c.RequestAsync("session/attach", attach(first)) }
            .Select(r => r.GetProperty("attachId").GetString()!).ToList();
        var second = (await c.RequestAsync("session/start", start.DeepClone())).GetProperty("id").GetString()!;
        await LimitAsync(c.RequestAsync("session/attach", attach(second)), "attachmentsPerConnection", 2);

        var ended = await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = first }, Wait);
        var lastSeq = ended.GetProperty("lastSeq").GetInt64();
        foreach (var id in ids)
        {
            var detached = await c.WaitForNotificationAsync(n => n.GetProperty("method").GetString() == "session/detached" && n.GetProperty("params").GetProperty("attachId").GetString() == id, Wait);
            Assert.Equal("ended", detached.GetProperty("params").GetProperty("reason").GetString());
            Assert.Equal(lastSeq, detached.GetProperty("params").GetProperty("lastSeq").GetInt64());
            Assert.Contains(c.Events(id), e => e.GetProperty("type").GetString() == "status" && e.GetProperty("data").GetProperty("status").GetString() == "completed");
        }

        await c.RequestAsync("session/attach", attach(second));
        await c.RequestAsync("session/attach", attach(second));
    }
}
