using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// Agentic turns with the real Auggie: its tool calls (from its session file, written when each
/// exchange completes) as chat/tool items, its task list as a plan. Auggie asks no approvals with
/// the settings its tests (and its users by default) have, so there are none to show.
/// </summary>
public sealed class AgenticTurnAuggieTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 240000)]
    public async Task ACommandAndAFile_AreToolCalls_AndTheAnswerIsTheTextAfterThem()
    {
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "agentic");
        server.EnqueueReply(FakeReply.CallTools(AuggieTools.LaunchProcess("echo hello-from-auggie; exit 3")));
        server.EnqueueReply(FakeReply.CallTools(AuggieTools.SaveFile("hello.txt", "hello\n")));
        server.EnqueueReply(FakeReply.Say("Both done."));
        var s = await run.StartSessionAsync("auggie");
        var attach = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;

        var result = await run.SendAsync(s.Id, "run and save");
        Assert.Equal("Both done.", result.GetProperty("text").GetString());

        await run.Client.WaitForEventsAsync(attach, e => e.Count(x => x.GetProperty("type").GetString() == "tool" && x.GetProperty("data").GetProperty("status").GetString() is "completed" or "failed") >= 2, TimeSpan.FromSeconds(30));
        var tools = run.Client.Events(attach).Where(e => e.GetProperty("type").GetString() == "tool").Select(e => e.GetProperty("data")).ToList();
        var command = tools.Last(t => t.GetProperty("kind").GetString() == "execute");
        Assert.Equal(("echo hello-from-auggie; exit 3", "failed", 3), (command.GetProperty("command").GetString(), command.GetProperty("status").GetString(), command.GetProperty("exitCode").GetInt32()));
        Assert.Contains("hello-from-auggie", command.GetProperty("output").GetString(), StringComparison.Ordinal);
        var write = tools.Last(t => t.GetProperty("kind").GetString() == "edit");
        var file = Assert.Single(write.GetProperty("files").EnumerateArray());
        Assert.Equal((Path.Combine(run.Workspace, "hello.txt"), "hello\n"), (file.GetProperty("path").GetString(), file.GetProperty("newText").GetString()));
        Assert.False(file.TryGetProperty("oldText", out _));
        Assert.Contains("+hello", file.GetProperty("diff").GetString(), StringComparison.Ordinal);
        Assert.Equal("hello\n", await File.ReadAllTextAsync(Path.Combine(run.Workspace, "hello.txt"), Ct));
    }
}
