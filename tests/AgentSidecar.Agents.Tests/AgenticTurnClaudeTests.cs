using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// Agentic turns with the real Claude Code in manual mode (its classic permission prompts): Bash and
/// edits as chat/tool items, each prompt as a chat/approval answered from the chat or the terminal,
/// and the turn waiting while it is asked (its selected option "❯ 1. Yes" never reads as done).
/// </summary>
public sealed class AgenticTurnClaudeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Manual => new() { ["args"] = new JsonArray("--permission-mode", "default") };

    private static async Task<(AgentRun Run, JsonElementSession Session, string AttachId)> StartAsync(FakeAnthropicServer server, string name)
    {
        var run = await AgentRun.ClaudeAsync(server, name, profile: Manual);
        var s = await run.StartSessionAsync("claude");
        var attach = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;
        return (run, s, attach);
    }

    [Theory(Timeout = 240000)]
    [InlineData("chat")]
    [InlineData("terminal")]
    public async Task Bash_AsksFirst_TheTurnWaits_AndAllowingItRunsTheCommand(string answeredIn)
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        var (run, s, attach) = await StartAsync(server, $"agentic-bash-{answeredIn}");
        await using var owned = run;
        var outside = Path.Combine(run.Dir, "outside.txt");
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Bash($"echo approved > {outside}", "Write outside")));
        server.EnqueueReply(FakeReply.Say("Wrote it."));

        var (_, turn) = await run.Client.BeginAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "write outside" }, Wait);
        var pending = await ChatItems.PendingApprovalAsync(run.Client, attach);
        Assert.Equal($"echo approved > {outside}", pending.GetProperty("detail").GetString());
        Assert.Equal(["yes", "always", "auto", "no"], pending.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("optionId").GetString()));
        Assert.False(turn.IsCompleted, "the turn ended while the prompt waited");
        Assert.Equal("approval", (await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id })).GetProperty("waiting").GetString());

        var approvalId = pending.GetProperty("approvalId").GetString()!;
        if (answeredIn == "chat")
        {
            var approved = (await run.Client.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = s.Id, ["approvalId"] = approvalId, ["optionId"] = "yes" }, Wait)).GetProperty("approval");
            Assert.Equal(("allowed", "chat"), (approved.GetProperty("status").GetString(), approved.GetProperty("resolvedBy").GetString()));
        }
        else
        {
            // The pause is the point: Claude Code drops a key pressed within ~0.5 s of its prompt, and
            // nothing it shows says when it starts taking them (its sessions file says "waiting"
            // before that). A person reads the prompt first; so does this test.
            await Task.Delay(TimeSpan.FromSeconds(1), Ct);

            await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "1" });
            var resolved = await ChatItems.ResolvedAsync(run.Client, attach, approvalId);
            Assert.Equal(("allowed", "terminal", "yes"), (resolved.GetProperty("status").GetString(), resolved.GetProperty("resolvedBy").GetString(), resolved.GetProperty("optionId").GetString()));
        }

        var result = await turn;
        Assert.Equal(("completed", "Wrote it."), (result.GetProperty("status").GetString(), result.GetProperty("text").GetString()));
        Assert.Equal("approved\n", await File.ReadAllTextAsync(outside, Ct));
        var tool = ChatItems.Of(run.Client, attach, "tool").Last();
        Assert.Equal(("execute", "completed", $"echo approved > {outside}", 0), (tool.GetProperty("kind").GetString(), tool.GetProperty("status").GetString(), tool.GetProperty("command").GetString(), tool.GetProperty("exitCode").GetInt32()));
    }

    [Fact(Timeout = 240000)]
    public async Task Bash_Rejected_DoesNotRun_AndTheTurnEnds()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        var (run, s, attach) = await StartAsync(server, "agentic-bash-reject");
        await using var owned = run;
        var outside = Path.Combine(run.Dir, "refused.txt");
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Bash($"echo refused > {outside}", "Write outside")));

        var (_, turn) = await run.Client.BeginAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "write outside" }, Wait);
        var approvalId = (await ChatItems.PendingApprovalAsync(run.Client, attach)).GetProperty("approvalId").GetString()!;
        var rejected = (await run.Client.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = s.Id, ["approvalId"] = approvalId, ["optionId"] = "no" }, Wait)).GetProperty("approval");
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        var result = await turn;
        Assert.Equal("cancelled", result.GetProperty("status").GetString());
        Assert.False(File.Exists(outside));
        Assert.Equal("failed", ChatItems.Of(run.Client, attach, "tool").Last().GetProperty("status").GetString());
    }

    [Fact(Timeout = 240000)]
    public async Task AnEdit_AsksWithItsFile_AndOnceAllowedIsADiffOfTheWholeFile()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        var (run, s, attach) = await StartAsync(server, "agentic-edit");
        await using var owned = run;
        var notes = Path.Combine(run.Workspace, "notes.txt");
        await File.WriteAllTextAsync(notes, "one\ntwo\nthree\n", Ct);
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Read(notes)));
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Edit(notes, "two", "TWO")));
        server.EnqueueReply(FakeReply.Say("Edited."));

        var (_, turn) = await run.Client.BeginAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "edit the notes" }, Wait);
        var pending = await ChatItems.PendingApprovalAsync(run.Client, attach);
        Assert.Equal("Make this edit?", pending.GetProperty("title").GetString());
        Assert.Equal("notes.txt", pending.GetProperty("detail").GetString());
        await run.Client.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = s.Id, ["approvalId"] = pending.GetProperty("approvalId").GetString(), ["optionId"] = "yes" }, Wait);

        Assert.Equal("Edited.", (await turn).GetProperty("text").GetString());
        var tools = ChatItems.Of(run.Client, attach, "tool");
        Assert.Contains(tools, t => t.GetProperty("kind").GetString() == "read" && t.GetProperty("status").GetString() == "completed");
        var edit = tools.Last(t => t.GetProperty("kind").GetString() == "edit");
        Assert.Equal("completed", edit.GetProperty("status").GetString());
        var file = Assert.Single(edit.GetProperty("files").EnumerateArray());
        Assert.Equal(("one\ntwo\nthree\n", "one\nTWO\nthree\n"), (file.GetProperty("oldText").GetString(), file.GetProperty("newText").GetString()));
        Assert.Contains("-two", file.GetProperty("diff").GetString(), StringComparison.Ordinal);
        Assert.Contains("+TWO", file.GetProperty("diff").GetString(), StringComparison.Ordinal);
    }
}
