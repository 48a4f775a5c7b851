using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Tests;

/// <summary>Which transcript a session reads, with Claude Code's layout built from the recorded files.</summary>
public sealed class TranscriptWatcherTests : IDisposable
{
    private const string Before = "ce3ef2d7-f476-44b9-b7ae-02dd806448e3";
    private const string After = "4c248131-50a8-458e-a899-ad525ca8a8d8";
    private readonly string _home = Directory.CreateTempSubdirectory("claude-home-").FullName;
    private readonly ManualClock _clock = new();

    /// <summary>The watcher looks files up at most every 100 ms of its clock; the tests move it.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string Projects => Path.Combine(_home, "projects");

    private void Layout()
    {
        // The recording ran in /tmp/workspace: ~/.claude/projects/-tmp-workspace/<sessionId>.jsonl
        var dir = Path.Combine(Projects, "-tmp-workspace");
        Directory.CreateDirectory(dir);
        foreach (var id in new[] { Before, After })
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "testdata", "transcripts", "claude", id + ".jsonl"), Path.Combine(dir, id + ".jsonl"));
        }

        Directory.CreateDirectory(Path.Combine(_home, "sessions"));
    }

    private void SessionsFile(int pid, string sessionId) =>
        File.WriteAllText(Path.Combine(_home, "sessions", $"{pid}.json"), $$"""{"pid":{{pid}},"sessionId":"{{sessionId}}","cwd":"/tmp/workspace","status":"idle"}""");

    private TranscriptWatcher Watcher(int pid) =>
        new(TranscriptReaders.ClaudeJsonl, Projects, "/tmp/workspace", DateTimeOffset.UnixEpoch, null, new TranscriptClaims(), () => "s1", () => pid, () => false, _clock);

    [Fact]
    public void Claude_SessionsFileOfTheAgentPid_PicksItsExactTranscript_AndFollowsItAcrossAClear()
    {
        Layout();
        var pid = Environment.ProcessId;
        SessionsFile(pid, Before);
        var watcher = Watcher(pid);
        var items = watcher.Poll();
        Assert.Equal(Before, watcher.AgentSessionId);
        Assert.Contains(items, i => i is UserMessage { Text: "hello one" });

        // /clear: Claude Code switches the id in sessions/<pid>.json; the session reads the new file only.
        SessionsFile(pid, After);
        watcher.Restart(_clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromMilliseconds(150)); // past the watcher's lookup interval (100 ms)
        var next = watcher.Poll();
        Assert.Equal(After, watcher.AgentSessionId);
        Assert.DoesNotContain(next, i => i is UserMessage { Text: "hello one" });
        Assert.Contains(next, i => i is UserMessage { Text: "after clear" });
    }

    [Fact]
    public void Claude_WithoutASessionsFile_AndNoTurnExpected_ReadsNothing()
    {
        Layout();
        var watcher = Watcher(Environment.ProcessId);
        Assert.Empty(watcher.Poll());
        Assert.Null(watcher.AgentSessionId);
    }
}
