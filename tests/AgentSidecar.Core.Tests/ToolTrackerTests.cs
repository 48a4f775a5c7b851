using System.Text.Json;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Tests;

/// <summary>Recorded tool calls and results becoming chat/tool items, against real files for the edits.</summary>
public sealed class ToolTrackerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tools-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Json(object o) => JsonSerializer.Serialize(o);

    [Fact]
    public void CodexCommand_InProgressThenCompleted_WithItsCommandCwdOutputAndExitCode()
    {
        var tracker = new ToolTracker(_dir);
        var (tool, plan) = tracker.Started("t1", new ToolCall("exec_command", null) { CallId = "call_1", Arguments = Json(new { cmd = "npm test", workdir = "/w/app" }) });
        Assert.Null(plan);
        Assert.Equal((ToolKinds.Execute, ToolStatuses.InProgress, "npm test", "/w/app", "npm test"), (tool!.Kind, tool.Status, tool.Command, tool.Cwd, tool.Title));

        var done = tracker.Finished(CodexToolOutput.Read("call_1", JsonDocument.Parse(Json("Exit code: 2\nWall time: 0.1 seconds\nOutput:\nFAIL one\n")).RootElement, null));
        Assert.Equal((ToolStatuses.Failed, 2, "FAIL one\n"), (done!.Status, done.ExitCode, done.Output));
        Assert.Null(tracker.Finished(new ToolResult("call_unknown", "x", false, 0, null)));
    }

    [Fact]
    public void ArgvCommands_ShowTheScriptOfTheShell()
    {
        var tool = new ToolTracker(_dir).Started("t1", new ToolCall("shell", null) { CallId = "c", Arguments = Json(new { command = new[] { "bash", "-lc", "ls -la" } }) }).Tool;
        Assert.Equal("ls -la", tool!.Command);
    }

    [Fact]
    public void LongOutput_KeepsItsTail_AndSaysSo()
    {
        var tracker = new ToolTracker(_dir);
        tracker.Started("t1", new ToolCall("Bash", null) { CallId = "b", Arguments = Json(new { command = "yes | head -n 100000" }) });
        var output = string.Concat(Enumerable.Repeat("y\n", 20_000)) + "END\n";
        var done = tracker.Finished(new ToolResult("b", output, false, null, null))!;
        Assert.True(done.OutputTruncated);
        Assert.Equal(ChatToolData.MaxOutputChars, done.Output!.Length);
        Assert.EndsWith("END\n", done.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void CodexPatch_UpdateAndAdd_GiveEachFileItsTextBeforeAndAfterAndAUnifiedDiff()
    {
        var greet = Path.Combine(_dir, "greet.js");
        File.WriteAllText(greet, "line one\nexport const greet = () => 'hi';\nline three\n");
        var patch = "*** Begin Patch\n*** Update File: greet.js\n@@\n line one\n-export const greet = () => 'hi';\n+export const greet = (n) => `hi ${n}`;\n line three\n*** Add File: new.txt\n+fresh\n*** End Patch\n";
        var tracker = new ToolTracker(_dir);
        var (tool, _) = tracker.Started("t1", new ToolCall("apply_patch", null) { CallId = "p1", Arguments = patch });
        Assert.Equal(ToolKinds.Edit, tool!.Kind);
        Assert.Equal("Edit greet.js, new.txt", tool.Title);
        Assert.Equal([greet, Path.Combine(_dir, "new.txt")], tool.Files!.Select(f => f.Path));
        Assert.Contains("-export const greet = () => 'hi';", tool.Files![0].Diff, StringComparison.Ordinal);

        // The agent applies it; the result completes the files with what is on disk.
        File.WriteAllText(greet, "line one\nexport const greet = (n) => `hi ${n}`;\nline three\n");
        File.WriteAllText(Path.Combine(_dir, "new.txt"), "fresh\n");
        var done = tracker.Finished(new ToolResult("p1", "Success. Updated the following files:", false, 0, null))!;
        var (updated, added) = (done.Files![0], done.Files[1]);
        Assert.Equal("line one\nexport const greet = () => 'hi';\nline three\n", updated.OldText);
        Assert.Equal("line one\nexport const greet = (n) => `hi ${n}`;\nline three\n", updated.NewText);
        Assert.Contains("--- a/", updated.Diff, StringComparison.Ordinal);
        Assert.Contains("+export const greet = (n) => `hi ${n}`;", updated.Diff, StringComparison.Ordinal);
        Assert.Contains("-export const greet = () => 'hi';", updated.Diff, StringComparison.Ordinal);
        Assert.Null(added.OldText);
        Assert.Equal("fresh\n", added.NewText);
        Assert.Contains("+fresh", added.Diff, StringComparison.Ordinal);
        Assert.Null(done.Output);
    }

    [Theory]
    [InlineData("a\nB\nc\n", "@@\n a\n-b\n+B\n c\n", "a\nb\nc\n")]
    [InlineData("x\na\nB\nc\ny\nB2\n", "@@\n a\n-b\n+B\n@@\n y\n-b2\n+B2\n", "x\na\nb\nc\ny\nb2\n")]
    [InlineData("changed again\n", "@@\n a\n-b\n+B\n", null)]
    public void APatchUndone_OnTheTextAfterIt_GivesTheTextBefore(string after, string patch, string? before)
    {
        Assert.Equal(before, PatchFiles.Reverse(after, patch));
    }

    [Fact]
    public void ClaudeEdit_TakesTheOriginalFileFromItsResult()
    {
        var file = Path.Combine(_dir, "a.txt");
        var tracker = new ToolTracker(_dir);
        var (tool, _) = tracker.Started("t1", new ToolCall("Edit", null) { CallId = "toolu_1", Arguments = Json(new { file_path = file, old_string = "old", new_string = "new" }) });
        Assert.Equal("Edit a.txt", tool!.Title);
        File.WriteAllText(file, "a new b\n");
        var done = tracker.Finished(new ToolResult("toolu_1", "The file has been updated.", false, null, null) { Details = Json(new { filePath = file, originalFile = "a old b\n" }) })!;
        Assert.Equal(("a old b\n", "a new b\n"), (done.Files![0].OldText, done.Files[0].NewText));
        Assert.Contains("-a old b", done.Files[0].Diff, StringComparison.Ordinal);
        Assert.Contains("+a new b", done.Files[0].Diff, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("update_plan", "plan", "step")]
    [InlineData("TodoWrite", "todos", "content")]
    public void PlanTools_AreAPlan_NotACard(string name, string list, string text)
    {
        var args = $"{{\"{list}\":[{{\"{text}\":\"look\",\"status\":\"completed\"}},{{\"{text}\":\"fix\",\"status\":\"in_progress\"}},{{\"{text}\":\"test\",\"status\":\"pending\"}}]}}";
        var (tool, plan) = new ToolTracker(_dir).Started("t1", new ToolCall(name, null) { CallId = "x", Arguments = args });
        Assert.Null(tool);
        Assert.Equal(["look:completed", "fix:in_progress", "test:pending"], plan!.Entries.Select(e => $"{e.Text}:{e.Status}"));
    }

    [Fact]
    public void AnApprovalSetsTheCallPending_ThenInProgress_ButNeverReopensAFinishedCall()
    {
        var tracker = new ToolTracker(_dir);
        tracker.Started("t1", new ToolCall("exec_command", null) { CallId = "c", Arguments = Json(new { cmd = "rm -rf build" }) });
        Assert.Equal(ToolStatuses.Pending, tracker.WithStatus("c", ToolStatuses.Pending)!.Status);
        Assert.Equal(ToolStatuses.InProgress, tracker.WithStatus("c", ToolStatuses.InProgress)!.Status);
        tracker.Finished(new ToolResult("c", "", false, 0, null));
        Assert.Null(tracker.WithStatus("c", ToolStatuses.Pending));
    }
}
