using System.Text.Json.Nodes;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// The fake model servers make the real agents call tools: the agent runs the tool, sends its output
/// back, and the fake's final answer ends the turn. Facts behind them (prompts, keys, transcripts):
/// <c>tests/testdata/agents/&lt;agent&gt;/tools/README.md</c>.
/// </summary>
public sealed class ToolCallFakeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Claude Code refuses bypassPermissions as root unless IS_SANDBOX=1; its warning dialog is skipped by a flag setting.</summary>
    private static JsonObject ClaudeBypass => new()
    {
        ["args"] = new JsonArray("--permission-mode", "bypassPermissions", "--settings", """{"skipDangerousModePermissionPrompt":true}"""),
        ["env"] = new JsonObject { ["IS_SANDBOX"] = "1" },
    };

    [Fact(Timeout = 180000)]
    public async Task Codex_ApprovalsOff_RunsTheShellCommand_SendsItsOutputBack_AndTheFinalAnswerArrives()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "tool-run");
        server.EnqueueReply(FakeReply.CallTools(CodexTools.Exec("echo made > made.txt; echo hello-from-tool; echo oops >&2")));
        server.EnqueueReply(FakeReply.Say("The command ran."));
        var s = await run.StartSessionAsync("codex");

        var result = await run.SendAsync(s.Id, "run a command");
        Assert.Equal("completed", result.GetProperty("status").GetString());
        Assert.Equal("The command ran.", result.GetProperty("text").GetString());

        var output = Assert.Single(server.ToolOutputs);
        Assert.Equal(CodexTools.Shell, output.Name);
        Assert.Equal(0, output.ExitCode);
        Assert.Contains("hello-from-tool", output.Output, StringComparison.Ordinal);
        Assert.Contains("oops", output.Output, StringComparison.Ordinal);
        Assert.Equal(output.CallId, Assert.Single(server.Answers[0].ToolCalls).Id);
        Assert.Equal("made\n", await File.ReadAllTextAsync(Path.Combine(run.Workspace, "made.txt"), Ct));

        // The request that brought the output back is the one the final answer went to.
        var second = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(output.CallId, second.ToolOutput?.CallId);
        Assert.Null((await server.WaitForTurnAsync(1, Wait, Ct)).ToolOutput);
    }

    [Fact(Timeout = 180000)]
    public async Task Codex_ApplyPatchAndUpdatePlan_EditTheWorkspace_AndReportBack()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "tool-patch");
        CodexHome.Create(run.Home.Root, server.BaseUrl, run.Workspace, new CodexHomeOptions { EditAndPlanTools = true });
        await File.WriteAllTextAsync(Path.Combine(run.Workspace, "notes.txt"), "one\ntwo\nthree\n", Ct);
        server.EnqueueReply(FakeReply.CallTools(CodexTools.UpdatePlan("Two steps.", ("Edit the notes", "in_progress"), ("Add hello", "pending"))));
        server.EnqueueReply(FakeReply.CallTools(CodexTools.ApplyPatch(CodexTools.ReplaceLinePatch("notes.txt", "two", "TWO"))));
        server.EnqueueReply(FakeReply.CallTools(CodexTools.ApplyPatch(CodexTools.AddFilePatch("hello.txt", "hello\nworld\n"))));
        server.EnqueueReply(FakeReply.Say("Edited."));
        var s = await run.StartSessionAsync("codex");

        var result = await run.SendAsync(s.Id, "edit the notes");
        Assert.Equal("Edited.", result.GetProperty("text").GetString());

        // The tools were offered as 0.169 offers them: apply_patch custom (freeform), update_plan a function.
        var tools = (JsonArray)((JsonObject)server.Turns[0].Request.Body!)["tools"]!;
        Assert.Contains(tools.OfType<JsonObject>(), t => t["name"]?.GetValue<string>() == "apply_patch" && t["type"]?.GetValue<string>() == "custom");
        Assert.Contains(tools.OfType<JsonObject>(), t => t["name"]?.GetValue<string>() == "update_plan" && t["type"]?.GetValue<string>() == "function");

        Assert.Equal(["update_plan", "apply_patch", "apply_patch"], server.ToolOutputs.Select(o => o.Name).ToList());
        Assert.Equal("Plan updated", server.ToolOutputs[0].Output);
        Assert.Equal(0, server.ToolOutputs[1].ExitCode);
        Assert.Contains("M notes.txt", server.ToolOutputs[1].Output, StringComparison.Ordinal);
        Assert.Equal("custom_tool_call_output", server.ToolOutputs[2].Raw["type"]?.GetValue<string>());
        Assert.Equal("one\nTWO\nthree\n", await File.ReadAllTextAsync(Path.Combine(run.Workspace, "notes.txt"), Ct));
        Assert.Equal("hello\nworld\n", await File.ReadAllTextAsync(Path.Combine(run.Workspace, "hello.txt"), Ct));
    }

    [Fact(Timeout = 180000)]
    public async Task Codex_OnRequest_AnEscalatedCommand_WaitsForApproval_AndYRunsIt()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "tool-approve");
        CodexHome.Create(run.Home.Root, server.BaseUrl, run.Workspace, CodexHomeOptions.UserDefaults);
        var outside = Path.Combine(run.Dir, "outside.txt"); // the workspace is run.Dir/ws
        server.EnqueueReply(FakeReply.CallTools(CodexTools.Exec($"echo escalated > {outside}", escalated: true, justification: "Write a file outside the workspace?")));
        server.EnqueueReply(FakeReply.Say("Wrote it."));
        var s = await run.StartSessionAsync("codex");

        var turn = run.SendAsync(s.Id, "write outside");
        var prompt = await ScreenAsync(run, s, "Would you like to run the following command?", "Press enter to confirm or esc to cancel");
        Assert.Contains(prompt, l => l.Contains("Reason: Write a file outside the workspace?", StringComparison.Ordinal));
        Assert.Contains(prompt, l => l.TrimStart().StartsWith("› 1. Yes, proceed (y)", StringComparison.Ordinal));
        Assert.False(File.Exists(outside));
        Assert.Empty(server.ToolOutputs);

        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "y" });
        var output = await server.WaitForToolOutputAsync(1, Wait, Ct);
        Assert.Equal(0, output.ExitCode);
        Assert.Equal("escalated\n", await File.ReadAllTextAsync(outside, Ct));
        var result = await turn;
        Assert.Equal("Wrote it.", result.GetProperty("text").GetString());
    }

    [Fact(Timeout = 180000)]
    public async Task Claude_BypassPermissions_RunsBashWriteAndEdit_AndTheFinalAnswerArrives()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "tool-bypass", profile: ClaudeBypass);
        var notes = Path.Combine(run.Workspace, "notes.txt");
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Bash("echo made > made.txt; echo hello-from-bash", "Make a file")));
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Write(notes, "one\ntwo\n")));
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Edit(notes, "two", "TWO")));
        server.EnqueueReply(FakeReply.Say("All done."));
        var s = await run.StartSessionAsync("claude");

        var result = await run.SendAsync(s.Id, "do the work");
        Assert.Equal("completed", result.GetProperty("status").GetString());
        Assert.Equal("All done.", result.GetProperty("text").GetString());

        Assert.Equal(["Bash", "Write", "Edit"], server.ToolOutputs.Select(o => o.Name).ToList());
        Assert.All(server.ToolOutputs, o => Assert.False(o.IsError, o.Output));
        Assert.Equal("hello-from-bash", server.ToolOutputs[0].Output);
        Assert.Equal("made\n", await File.ReadAllTextAsync(Path.Combine(run.Workspace, "made.txt"), Ct));
        Assert.Equal("one\nTWO\n", await File.ReadAllTextAsync(notes, Ct));
    }

    [Fact(Timeout = 180000)]
    public async Task Claude_DefaultAutoMode_RunsWhatTheSafetyCheckPasses_AndBlocksWhatItFlags()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "tool-auto");
        var outside = Path.Combine(run.Dir, "outside.txt");
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Bash($"echo passed > {outside}", "Write outside")) with { Safeguard = ClaudeTools.NotFlagged });
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Bash($"echo flagged >> {outside}", "Write outside again")) with { Safeguard = ClaudeTools.Flagged("Writes outside the working folder.") });
        server.EnqueueReply(FakeReply.Say("Finished."));
        var s = await run.StartSessionAsync("claude");

        var result = await run.SendAsync(s.Id, "write outside twice");
        Assert.Equal("Finished.", result.GetProperty("text").GetString());

        Assert.Equal(2, server.ToolOutputs.Count);
        Assert.False(server.ToolOutputs[0].IsError);
        Assert.True(server.ToolOutputs[1].IsError);
        Assert.StartsWith("Permission for this action was denied by the Claude Code auto mode classifier. Reason: Writes outside the working folder.", server.ToolOutputs[1].Output, StringComparison.Ordinal);
        Assert.Equal("passed\n", await File.ReadAllTextAsync(outside, Ct));
    }

    [Fact(Timeout = 180000)]
    public async Task Claude_ManualMode_AsksBeforeBash_AndKey1RunsIt()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "tool-manual", profile: new JsonObject { ["args"] = new JsonArray("--permission-mode", "default") });
        var outside = Path.Combine(run.Dir, "outside.txt");
        server.EnqueueReply(FakeReply.CallTools(ClaudeTools.Bash($"echo approved > {outside}", "Write outside")));
        server.EnqueueReply(FakeReply.Say("Wrote it."));
        var s = await run.StartSessionAsync("claude");

        var turn = run.SendAsync(s.Id, "write outside");
        var prompt = await ScreenAsync(run, s, "Do you want to proceed?", "4. No", "Esc to cancel");
        Assert.Contains(prompt, l => l.Trim() == "❯ 1. Yes");
        Assert.Contains(prompt, l => l.Trim() == "4. No");
        Assert.False(File.Exists(outside));

        // Meanwhile Claude Code's sessions file says "waiting".
        await ClaudeStatusAsync(run.Home, s.AgentPid, "waiting");

        // Claude Code drops keys that come less than ~0.5-0.7 s after its permission dialog opened: wait,
        // answer, and answer again if the prompt is still there.
        var output = await AnswerAsync(run, s, "1", "Do you want to proceed?", () => server.ToolOutputs is [var first, ..] ? first : null);
        Assert.False(output.IsError);
        Assert.Equal("approved\n", await File.ReadAllTextAsync(outside, Ct));
        await server.WaitForAnswersAsync(2, Wait, Ct);

        // Not asserted: today's claude profile ends this chat/send while the prompt shows (its done
        // pattern `^\s*❯` also matches the prompt's selected option " ❯ 1. Yes").
        await turn;
    }

    [Fact(Timeout = 180000)]
    public async Task Auggie_RunsLaunchProcessAndSaveFile_AndTheFinalAnswerArrives()
    {
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "tool-run");
        server.EnqueueReply(FakeReply.CallTools(AuggieTools.LaunchProcess("echo hello-from-auggie; exit 3")));
        server.EnqueueReply(FakeReply.CallTools(AuggieTools.SaveFile("hello.txt", "hello\n")));
        server.EnqueueReply(FakeReply.Say("Both done."));
        var s = await run.StartSessionAsync("auggie");

        var result = await run.SendAsync(s.Id, "run and save");
        Assert.Equal("Both done.", result.GetProperty("text").GetString());

        Assert.Equal(["launch-process", "save-file"], server.ToolOutputs.Select(o => o.Name).ToList());
        Assert.Equal(3, server.ToolOutputs[0].ExitCode);
        Assert.Contains("hello-from-auggie", server.ToolOutputs[0].Output, StringComparison.Ordinal);
        Assert.Equal("hello\n", await File.ReadAllTextAsync(Path.Combine(run.Workspace, "hello.txt"), Ct));
    }

    /// <summary>Polls the agent's screen until each of <paramref name="texts"/> is in a line (a prompt is drawn in more than one frame); returns the lines.</summary>
    private static async Task<IReadOnlyList<string>> ScreenAsync(AgentRun run, JsonElementSession s, params string[] texts)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var screen = await run.Client.RequestAsync("worker/screen", new JsonObject { ["workerId"] = s.AgentWorkerId });
            var lines = screen.GetProperty("lines").EnumerateArray().Select(l => l.GetString() ?? string.Empty).ToList();
            if (texts.All(text => lines.Any(l => l.Contains(text, StringComparison.Ordinal))))
            {
                return lines;
            }

            Assert.True(DateTime.UtcNow < deadline, $"not all of [{string.Join(", ", texts)}] on screen:\n" + string.Join('\n', lines));
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>
    /// Types <paramref name="key"/> 1.2 s after the prompt showed; if <paramref name="answered"/> is still null 3 s
    /// later and the prompt is still on screen, types it again (3 tries). Logs each try.
    /// </summary>
    private static async Task<T> AnswerAsync<T>(AgentRun run, JsonElementSession s, string key, string prompt, Func<T?> answered)
        where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.2), Ct);
            await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = key });
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (DateTime.UtcNow < deadline && answered() is null)
            {
                await Task.Delay(50, Ct);
            }

            if (answered() is { } result)
            {
                TestContext.Current.SendDiagnosticMessage($"answered with {key} at try {attempt}");
                return result;
            }

            var screen = await run.Client.RequestAsync("worker/screen", new JsonObject { ["workerId"] = s.AgentWorkerId });
            var lines = string.Join('\n', screen.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
            Assert.True(attempt < 3 && lines.Contains(prompt, StringComparison.Ordinal), $"{key} did not answer the prompt (try {attempt}); screen:\n{lines}");
            TestContext.Current.SendDiagnosticMessage($"{key} at try {attempt} left the prompt on screen:\n{lines}");
        }
    }

    /// <summary>Polls <c>~/.claude/sessions/&lt;pid&gt;.json</c> until its <c>status</c> is <paramref name="status"/> (10 s at most).</summary>
    private static async Task ClaudeStatusAsync(AgentHome home, int pid, string status)
    {
        var path = Path.Combine(home.Root, ".claude", "sessions", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".json");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string? seen = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = JsonNode.Parse(await File.ReadAllTextAsync(path, Ct))?["status"]?.GetValue<string>();
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
            {
                seen = null; // being rewritten
            }

            if (seen == status)
            {
                return;
            }

            await Task.Delay(50, Ct);
        }

        Assert.Equal(status, seen);
    }
}
