using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// Agentic turns with the real Codex: the fake model calls its tools, and the chat shows each call
/// (chat/tool), each edit as a diff, the plan, and, with the approvals users have on, each prompt as
/// a chat/approval answered from the chat or the terminal.
/// </summary>
public sealed class AgenticTurnCodexTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(AgentRun Run, JsonElementSession Session, string AttachId)> StartAsync(FakeCodexServer server, string name, CodexHomeOptions options)
    {
        var run = await AgentRun.CodexAsync(server, name);
        CodexHome.Create(run.Home.Root, server.BaseUrl, run.Workspace, options);
        var s = await run.StartSessionAsync("codex");
        var attach = (await run.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = s.Id, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;
        return (run, s, attach);
    }

    [Fact(Timeout = 240000)]
    public async Task ACommand_IsAToolCall_InProgressThenCompleted_WithItsOutput_AndTheAnswerIsTheTextAfterIt()
    {
        await using var server = await FakeCodexServer.StartAsync();
        server.EnqueueReply(FakeReply.CallTool(CodexTools.Exec("echo hello-from-tool; echo oops >&2; exit 3"), text: "Let me run it."));
        server.EnqueueReply(FakeReply.Say("The command failed with 3."));
        var (run, s, attach) = await StartAsync(server, "agentic-run", new CodexHomeOptions());
        await using var owned = run;

        var result = await run.SendAsync(s.Id, "run a command");
        Assert.Equal("completed", result.GetProperty("status").GetString());
        Assert.Equal("The command failed with 3.", result.GetProperty("text").GetString());

        var tools = ChatItems.Of(run.Client, attach, "tool");
        Assert.True(tools.Count >= 2, $"expected the call's start and end, got {tools.Count}");
        var (first, last) = (tools[0], tools[^1]);
        Assert.Equal(first.GetProperty("toolCallId").GetString(), last.GetProperty("toolCallId").GetString());
        Assert.Equal("in_progress", first.GetProperty("status").GetString());
        Assert.Equal("execute", last.GetProperty("kind").GetString());
        Assert.Equal("echo hello-from-tool; echo oops >&2; exit 3", last.GetProperty("command").GetString());
        Assert.Equal("failed", last.GetProperty("status").GetString());
        Assert.Equal(3, last.GetProperty("exitCode").GetInt32());
        Assert.Contains("hello-from-tool", last.GetProperty("output").GetString(), StringComparison.Ordinal);
        Assert.Contains("oops", last.GetProperty("output").GetString(), StringComparison.Ordinal);
        Assert.Equal(result.GetProperty("turnId").GetString(), last.GetProperty("turnId").GetString());
    }

    [Fact(Timeout = 240000)]
    public async Task AnEditAndAPlan_AreADiffOfTheFileAndAChecklist()
    {
        await using var server = await FakeCodexServer.StartAsync();
        server.EnqueueReply(FakeReply.CallTools(CodexTools.UpdatePlan("Two steps.", ("Edit the notes", "in_progress"), ("Add hello", "pending"))));
        server.EnqueueReply(FakeReply.CallTools(CodexTools.ApplyPatch(CodexTools.ReplaceLinePatch("notes.txt", "two", "TWO"))));
        server.EnqueueReply(FakeReply.CallTools(CodexTools.ApplyPatch(CodexTools.AddFilePatch("hello.txt", "hello\nworld\n"))));
        server.EnqueueReply(FakeReply.Say("Edited."));
        var (run, s, attach) = await StartAsync(server, "agentic-edit", new CodexHomeOptions { EditAndPlanTools = true });
        await using var owned = run;
        await File.WriteAllTextAsync(Path.Combine(run.Workspace, "notes.txt"), "one\ntwo\nthree\n", Ct);

        Assert.Equal("Edited.", (await run.SendAsync(s.Id, "edit the notes")).GetProperty("text").GetString());

        var plan = Assert.Single(ChatItems.Of(run.Client, attach, "plan"));
        Assert.Equal(["Edit the notes:in_progress", "Add hello:pending"], plan.GetProperty("entries").EnumerateArray().Select(e => $"{e.GetProperty("text").GetString()}:{e.GetProperty("status").GetString()}"));

        var edits = ChatItems.Of(run.Client, attach, "tool").Where(t => t.GetProperty("status").GetString() == "completed").ToList();
        Assert.Equal(2, edits.Count);
        var notes = Assert.Single(edits[0].GetProperty("files").EnumerateArray());
        Assert.Equal(Path.Combine(run.Workspace, "notes.txt"), notes.GetProperty("path").GetString());
        Assert.Equal("one\ntwo\nthree\n", notes.GetProperty("oldText").GetString());
        Assert.Equal("one\nTWO\nthree\n", notes.GetProperty("newText").GetString());
        Assert.Contains("-two", notes.GetProperty("diff").GetString(), StringComparison.Ordinal);
        Assert.Contains("+TWO", notes.GetProperty("diff").GetString(), StringComparison.Ordinal);
        var hello = Assert.Single(edits[1].GetProperty("files").EnumerateArray());
        Assert.False(hello.TryGetProperty("oldText", out _));
        Assert.Equal("hello\nworld\n", hello.GetProperty("newText").GetString());
        Assert.Equal("edit", edits[1].GetProperty("kind").GetString());
    }

    [Theory(Timeout = 240000)]
    [InlineData("chat")]
    [InlineData("terminal")]
    public async Task WithApprovalsOn_AnEscalatedCommand_AsksFirst_AndAllowingItRunsIt(string answeredIn)
    {
        await using var server = await FakeCodexServer.StartAsync();
        var outside = Directory.CreateTempSubdirectory("codex-outside-").FullName;
        var target = Path.Combine(outside, "allowed.txt");
        server.EnqueueReply(FakeReply.CallTools(CodexTools.Exec($"echo escalated > {target}", escalated: true, justification: "Write a file outside the workspace?")));
        server.EnqueueReply(FakeReply.Say("Wrote it."));
        var (run, s, attach) = await StartAsync(server, $"agentic-allow-{answeredIn}", CodexHomeOptions.UserDefaults);
        await using var owned = run;

        var (_, turn) = await run.Client.BeginAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "write outside" }, Wait);
        var pending = await ChatItems.PendingApprovalAsync(run.Client, attach);
        Assert.Equal("Run this command?", pending.GetProperty("title").GetString());
        Assert.Equal($"echo escalated > {target}", pending.GetProperty("detail").GetString());
        Assert.Equal(["yes", "always", "no"], pending.GetProperty("options").EnumerateArray().Select(o => o.GetProperty("optionId").GetString()));
        // The call it asks about is pending (the prompt and the call's record may come in either order).
        await run.Client.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "tool" && x.GetProperty("data").GetProperty("status").GetString() == "pending"), Wait);
        var callId = ChatItems.Of(run.Client, attach, "approval").Last().GetProperty("toolCallId").GetString();
        Assert.Contains(ChatItems.Of(run.Client, attach, "tool"), t => t.GetProperty("toolCallId").GetString() == callId && t.GetProperty("status").GetString() == "pending");
        Assert.Equal("approval", (await run.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.Id })).GetProperty("waiting").GetString());
        Assert.False(File.Exists(target));

        var approvalId = pending.GetProperty("approvalId").GetString()!;
        if (answeredIn == "chat")
        {
            var approved = (await run.Client.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = s.Id, ["approvalId"] = approvalId, ["optionId"] = "yes" }, Wait)).GetProperty("approval");
            Assert.Equal(("allowed", "chat"), (approved.GetProperty("status").GetString(), approved.GetProperty("resolvedBy").GetString()));
        }
        else
        {
            await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "y" });
            var resolved = await ChatItems.ResolvedAsync(run.Client, attach, approvalId);
            Assert.Equal(("allowed", "terminal", "yes"), (resolved.GetProperty("status").GetString(), resolved.GetProperty("resolvedBy").GetString(), resolved.GetProperty("optionId").GetString()));
        }

        var result = await turn;
        Assert.Equal(("completed", "Wrote it."), (result.GetProperty("status").GetString(), result.GetProperty("text").GetString()));
        Assert.Equal("escalated\n", await File.ReadAllTextAsync(target, Ct));
        Assert.Contains(ChatItems.Of(run.Client, attach, "tool"), t => t.GetProperty("toolCallId").GetString() == callId && t.GetProperty("status").GetString() == "completed");
    }

    [Theory(Timeout = 240000)]
    [InlineData("reject")]
    [InlineData("cancel")]
    public async Task WithApprovalsOn_RejectingOrCancelling_LeavesTheCommandUnrun_AndEndsTheTurn(string how)
    {
        await using var server = await FakeCodexServer.StartAsync();
        var outside = Directory.CreateTempSubdirectory("codex-outside-").FullName;
        var target = Path.Combine(outside, "refused.txt");
        server.EnqueueReply(FakeReply.CallTools(CodexTools.Exec($"echo escalated > {target}", escalated: true)));
        var (run, s, attach) = await StartAsync(server, $"agentic-{how}", CodexHomeOptions.UserDefaults);
        await using var owned = run;

        var (_, turn) = await run.Client.BeginAsync("chat/send", new JsonObject { ["sessionId"] = s.Id, ["text"] = "write outside" }, Wait);
        var approvalId = (await ChatItems.PendingApprovalAsync(run.Client, attach)).GetProperty("approvalId").GetString()!;
        if (how == "reject")
        {
            var rejected = (await run.Client.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = s.Id, ["approvalId"] = approvalId, ["optionId"] = "no" }, Wait)).GetProperty("approval");
            Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        }
        else
        {
            await run.Client.RequestAsync("chat/cancel", new JsonObject { ["sessionId"] = s.Id });
            Assert.Equal(("rejected", "chat"), ((await ChatItems.ResolvedAsync(run.Client, attach, approvalId)).GetProperty("status").GetString(), (await ChatItems.ResolvedAsync(run.Client, attach, approvalId)).GetProperty("resolvedBy").GetString()));
        }

        var result = await turn;
        Assert.Equal("cancelled", result.GetProperty("status").GetString());
        Assert.False(File.Exists(target));

        // The session goes on: the next message is answered.
        server.EnqueueReply(FakeReply.Say("still here"));
        Assert.Equal("still here", (await run.SendAsync(s.Id, "are you there")).GetProperty("text").GetString());
    }
}
