using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Providers;
using AgentSidecar.Core.Transcripts;
using AgentSidecar.Terminal.Vt;

namespace AgentSidecar.Core.Tests;

/// <summary>
/// The real agents' tool calls and approval prompts, recorded (tests/testdata/agents/&lt;agent&gt;/tools,
/// one folder a case, see the README there), against the built-in profiles: the PTY output replayed
/// into the emulator while the recorded keys are noted, as the chat controller does, gives the
/// approvals; the agent's transcript gives the tool calls. Both are compared with the case's
/// expected.txt.
/// </summary>
public sealed class AgentToolGoldenTests
{
    private const string ExpectedFile = "expected.txt";

    /// <summary>Where the recordings ran (their transcripts name it); edits are diffed from the calls alone here.</summary>
    private const string RecordedCwd = "/root/toolrec/ws";

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var agent in new[] { "codex", "claude", "auggie" })
        {
            var root = Path.Combine(GoldenCases.Directory("agents"), agent, "tools");
            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                data.Add(agent, Path.GetFileName(dir));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RecordedToolCallsAndApprovals_AreSeenAsTheyHappened(string agent, string caseName)
    {
        var dir = Path.Combine(GoldenCases.Directory("agents"), agent, "tools", caseName);
        var profile = BuiltInProviders.All.Single(p => p.Id == agent);
        var actual = Approvals(profile, Path.Combine(dir, "pty.jsonl")).Concat(ToolCalls(agent, dir)).ToList();

        var expectedPath = Path.Combine(dir, ExpectedFile);
        if (Environment.GetEnvironmentVariable("AGENT_SIDECAR_WRITE_GOLDEN") == "1")
        {
            File.WriteAllLines(expectedPath, actual);
        }

        Assert.True(File.Exists(expectedPath), $"the case {agent}/{caseName} has no {ExpectedFile} (see the README next to the cases)");
        Assert.Equal(File.ReadAllLines(expectedPath), actual);
    }

    private static IEnumerable<string> Approvals(ProviderProfile profile, string recording)
    {
        var screen = new VtScreen(120, 40);
        var watcher = new ApprovalWatcher(profile);
        var decoder = new UTF8Encoding(false);
        long last = 0;
        foreach (var line in File.ReadLines(recording).Where(l => l.Trim().Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var bytes = Convert.FromBase64String(e.GetProperty("b64").GetString()!);
            if (e.GetProperty("dir").GetString() != "out")
            {
                // The terminal's own replies (to the agent's queries) are not the user's keys.
                if (!(e.TryGetProperty("note", out var note) && note.GetString()!.Contains("terminal reply", StringComparison.Ordinal)))
                {
                    watcher.NoteKeys(decoder.GetString(bytes));
                }

                continue;
            }

            screen.Feed(bytes);
            last = (long)(e.GetProperty("t").GetDouble() * 1000);
            if (watcher.Evaluate(string.Join('\n', screen.GetLines()), "t1", null, last) is { } change)
            {
                yield return Describe(change);
            }
        }

        // The chat controller looks again every few ms: one last look, a second after the recording.
        if (watcher.Evaluate(string.Join('\n', screen.GetLines()), "t1", null, last + 1000) is { } final)
        {
            yield return Describe(final);
        }
    }

    private static string Describe(ChatApprovalData change) => change.Status == ApprovalStatuses.Pending
        ? $"approval pending: {change.Title} | {change.Detail} | {string.Join(", ", change.Options.Select(o => o.OptionId))}"
        : $"approval {change.Status} by {change.ResolvedBy} option={change.OptionId ?? "-"}";

    private static IEnumerable<string> ToolCalls(string agent, string dir)
    {
        var (kind, file) = agent switch
        {
            "codex" => (TranscriptReaders.CodexRollout, Directory.GetFiles(dir, "rollout-*.jsonl").SingleOrDefault()),
            "claude" => (TranscriptReaders.ClaudeJsonl, Directory.GetFiles(dir, "*.jsonl").SingleOrDefault(f => Path.GetFileName(f) != "pty.jsonl")),
            _ => (TranscriptReaders.AuggieSession, Directory.GetFiles(dir, "*.json").SingleOrDefault(f => Path.GetFileName(f) != "expected.json")),
        };
        if (file is null)
        {
            yield break;
        }

        var tracker = new ToolTracker(RecordedCwd);
        foreach (var item in TranscriptReaders.Open(kind, file).ReadNew())
        {
            switch (item)
            {
                case ToolCall call:
                    var (tool, plan) = tracker.Started("t1", call);
                    if (tool is not null)
                    {
                        yield return $"tool {tool.Kind} {tool.Status}: {tool.Title}";
                    }

                    if (plan is not null)
                    {
                        yield return $"plan: {string.Join("; ", plan.Entries.Select(p => $"{p.Text} [{p.Status}]"))}";
                    }

                    break;
                case ToolResult result when tracker.Finished(result) is { } done:
                    var exit = done.ExitCode is { } code ? code.ToString(CultureInfo.InvariantCulture) : "-";
                    var files = done.Files is { Count: > 0 } f ? $" files={string.Join(",", f.Select(x => Path.GetFileName(x.Path)))} diff-lines={f.Sum(x => x.Diff.Split('\n').Count(l => l.StartsWith('+') || l.StartsWith('-')))}" : string.Empty;
                    yield return $"tool {done.Kind} {done.Status}: {done.Title} exit={exit}{files}";
                    break;
            }
        }
    }
}
