using System.Diagnostics;
using System.Globalization;

namespace AgentSidecar.Core.Transcripts.Tests;

/// <summary>Finding transcripts on disk with real file times (birth times cannot be set, so the tests wait for the file system's clock).</summary>
public sealed class LocatorTests
{
    private static readonly HashSet<string> None = [];

    private static readonly TimeSpan FileClockTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The time the locator takes for a file: its birth time where the file system keeps one, else its last write.</summary>
    private static DateTimeOffset Stamp(string path) =>
        FileStat.TryGet(path) is { } stat ? stat.Birth ?? stat.LastWrite : throw new FileNotFoundException("no such file", path);

    /// <summary>
    /// Problem: the file system stamps files from a coarse kernel clock (a tick, several ms, behind
    /// DateTimeOffset.UtcNow), so a file written right after an instant can be born before it, and
    /// two files written back to back can share a birth time. Birth times cannot be set. Solution:
    /// before writing a file that must be newer than <paramref name="instant"/>, wait until a probe
    /// file in <paramref name="dir"/> (same file system) is stamped after it.
    /// </summary>
    private static void FileClockPast(string dir, DateTimeOffset instant)
    {
        var probe = Path.Combine(dir, ".clock-probe");
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            File.WriteAllBytes(probe, []);
            var stamped = Stamp(probe);
            File.Delete(probe);
            if (stamped > instant)
            {
                return;
            }

            Assert.True(Stopwatch.GetElapsedTime(started) < FileClockTimeout, $"the file system clock did not pass {instant:O} within {FileClockTimeout.TotalSeconds} s (a new file is stamped {stamped:O})");
            Thread.Sleep(1);
        }
    }

    /// <summary>"Now", once the clock has passed the stamp of <paramref name="path"/> (it has; this makes it certain to the tick).</summary>
    private static DateTimeOffset NowAfter(string path)
    {
        var stamp = Stamp(path);
        var started = Stopwatch.GetTimestamp();
        while (DateTimeOffset.UtcNow <= stamp)
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < FileClockTimeout, $"the clock did not pass {stamp:O}, the stamp of {path}");
            Thread.Sleep(1);
        }

        return DateTimeOffset.UtcNow;
    }

    private static string CodexRollout(string sessions, string id, string cwd, string message)
    {
        var now = DateTime.Now;
        var dir = Path.Combine(sessions, now.ToString("yyyy", CultureInfo.InvariantCulture), now.ToString("MM", CultureInfo.InvariantCulture), now.ToString("dd", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"rollout-{now.ToString("yyyy-MM-dd'T'HH-mm-ss", CultureInfo.InvariantCulture)}-{id}.jsonl");
        Append.Lines(path,
            $$$"""{"timestamp":"2026-11-21T10:00:00.000Z","type":"session_meta","payload":{"id":"{{{id}}}","cwd":"{{{cwd}}}","originator":"codex-tui"}}""",
            """{"timestamp":"2026-11-21T10:00:00.000Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context></environment_context>"}],"internal_chat_message_metadata_passthrough":{"content_item_kinds":["environments.environment_context"]}}}""",
            """{"timestamp":"2026-11-21T10:00:00.000Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"MESSAGE"}],"internal_chat_message_metadata_passthrough":{"content_item_kinds":["user.text"]}}}"""
                .Replace("MESSAGE", message, StringComparison.Ordinal));
        return path;
    }

    [Fact]
    public void FindNew_CodexTwoSessionsInTheSameCwd_ReturnsTheNewestNotExcluded()
    {
        using var temp = new TempDir();
        var sessions = temp.Combine("sessions");
        var since = DateTimeOffset.UtcNow;
        FileClockPast(temp.Path, since);
        var a = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000a", "/w", "first");
        FileClockPast(temp.Path, Stamp(a));
        var b = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000b", "/w", "second");
        FileClockPast(temp.Path, Stamp(b));
        CodexRollout(sessions, "00000000-0000-0000-0000-00000000000c", "/other", "elsewhere");

        var newest = TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, None);
        var notTaken = TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w/", since, new HashSet<string> { b });
        var allTaken = TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, new HashSet<string> { a, b });

        Assert.NotNull(newest);
        Assert.Equal(b, newest.Path);
        Assert.Equal("00000000-0000-0000-0000-00000000000b", newest.AgentSessionId);
        Assert.Equal("/w", newest.Cwd);
        Assert.Equal("second", newest.FirstUserMessage);
        Assert.Equal(a, notTaken?.Path);
        Assert.Null(allTaken);
    }

    [Fact]
    public void FindNew_CodexFileInAnotherCwdOrOlderThanSince_IsNotReturned()
    {
        using var temp = new TempDir();
        var sessions = temp.Combine("sessions");
        var old = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000a", "/w", "old");
        var since = NowAfter(old);
        FileClockPast(temp.Path, since);
        CodexRollout(sessions, "00000000-0000-0000-0000-00000000000c", "/other", "elsewhere");

        Assert.Null(TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, None));

        var fresh = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000d", "/w", "new");
        var found = TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, None);
        Assert.Equal(fresh, found?.Path);
        Assert.InRange(found!.Created, since, DateTimeOffset.UtcNow);
    }

    [Fact]
    public void FindById_CodexRealRollout_ReturnsItWithCwdAndFirstMessage()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("sessions", "2026", "11", "21");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, TestData.CodexRollout);
        File.Copy(TestData.File("codex", TestData.CodexRollout), path);

        var found = TranscriptLocator.FindById(TranscriptReaders.CodexRollout, temp.Combine("sessions"), "/anywhere", TestData.CodexId);

        Assert.NotNull(found);
        Assert.Equal(path, found.Path);
        Assert.Equal(TestData.CodexCwd, found.Cwd);
        Assert.Equal("hello one", found.FirstUserMessage);
        Assert.Null(TranscriptLocator.FindById(TranscriptReaders.CodexRollout, temp.Combine("sessions"), "/w", "no-such-id"));
    }

    [Fact]
    public void ListForWorkspace_Codex_ReturnsThatCwdNewestFirst()
    {
        using var temp = new TempDir();
        var sessions = temp.Combine("sessions");
        var a = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000a", "/w", "first");
        FileClockPast(temp.Path, Stamp(a));
        var c = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000c", "/other", "elsewhere");
        FileClockPast(temp.Path, Stamp(c));
        var b = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000b", "/w", "second");

        var list = TranscriptLocator.ListForWorkspace(TranscriptReaders.CodexRollout, sessions, "/w");

        Assert.Equal([b, a], list.Select(f => f.Path));
        Assert.Equal(["second", "first"], list.Select(f => f.FirstUserMessage));
    }

    [Fact]
    public void FindNew_ClaudeAfterClear_ReturnsTheNewFile()
    {
        using var temp = new TempDir();
        var project = temp.Combine("projects", "-tmp-workspace");
        Directory.CreateDirectory(project);
        var before = Path.Combine(project, TestData.ClaudeBeforeClear + ".jsonl");
        File.Copy(TestData.File("claude", TestData.ClaudeBeforeClear + ".jsonl"), before);
        var clearedAt = NowAfter(before); // the sidecar sends /clear
        FileClockPast(temp.Path, clearedAt);
        var after = Path.Combine(project, TestData.ClaudeAfterClear + ".jsonl");
        File.Copy(TestData.File("claude", TestData.ClaudeAfterClear + ".jsonl"), after);

        var found = TranscriptLocator.FindNew(TranscriptReaders.ClaudeJsonl, temp.Combine("projects"), TestData.ClaudeCwd, clearedAt, new HashSet<string> { before });

        Assert.NotNull(found);
        Assert.Equal(after, found.Path);
        Assert.Equal(TestData.ClaudeAfterClear, found.AgentSessionId);
        Assert.Equal(TestData.ClaudeCwd, found.Cwd);
        Assert.Equal("after clear", found.FirstUserMessage); // not the /clear command lines
        var list = TranscriptLocator.ListForWorkspace(TranscriptReaders.ClaudeJsonl, temp.Combine("projects"), TestData.ClaudeCwd);
        Assert.Equal([after, before], list.Select(f => f.Path));
        Assert.Equal(before, TranscriptLocator.FindById(TranscriptReaders.ClaudeJsonl, temp.Combine("projects"), TestData.ClaudeCwd, TestData.ClaudeBeforeClear)?.Path);
    }

    [Fact]
    public void FindNew_ClaudeOtherCwdSharingTheFolderName_IsNotReturned()
    {
        using var temp = new TempDir();
        var project = temp.Combine("projects", "-tmp-workspace");
        Directory.CreateDirectory(project);
        var since = DateTimeOffset.UtcNow;
        FileClockPast(temp.Path, since);
        File.Copy(TestData.File("claude", TestData.ClaudeBeforeClear + ".jsonl"), Path.Combine(project, TestData.ClaudeBeforeClear + ".jsonl"));

        // "/tmp.workspace" maps to the same folder, but the lines say /tmp/workspace.
        Assert.Null(TranscriptLocator.FindNew(TranscriptReaders.ClaudeJsonl, temp.Combine("projects"), "/tmp.workspace", since, None));
        Assert.NotNull(TranscriptLocator.FindNew(TranscriptReaders.ClaudeJsonl, temp.Combine("projects"), "/tmp/workspace", since, None));
    }

    [Fact]
    public void FindNew_AuggieSessions_MatchesCwdFromIdeStateAndAcceptsFilesWithoutOne()
    {
        using var temp = new TempDir();
        var sessions = temp.Combine("sessions");
        Directory.CreateDirectory(sessions);
        // Auggie's time is the document's "created" (and the file's last write, to skip old files): both set explicitly.
        var since = DateTimeOffset.UtcNow.AddMinutes(-10);
        var old = Path.Combine(sessions, "old.json");
        File.WriteAllText(old, AuggieFiles.Document("old", since.AddHours(-1), AuggieFiles.Entry("r0", "x", "y")));
        File.SetLastWriteTimeUtc(old, since.AddHours(-1).UtcDateTime);
        var written = 0;
        string Write(string id, string? cwd)
        {
            var at = since.AddSeconds(++written);
            var path = Path.Combine(sessions, id + ".json");
            File.WriteAllText(path, AuggieFiles.Document(id, at, AuggieFiles.Entry("r-" + id, "hi " + id, "ok", cwd: cwd)));
            File.SetLastWriteTimeUtc(path, at.UtcDateTime);
            return path;
        }
        var a = Write("a", "/w");
        var b = Write("b", "/w");
        var elsewhere = Write("c", "/other");

        Assert.Equal(b, TranscriptLocator.FindNew(TranscriptReaders.AuggieSession, sessions, "/w", since, None)?.Path);
        Assert.Equal(a, TranscriptLocator.FindNew(TranscriptReaders.AuggieSession, sessions, "/w", since, new HashSet<string> { b })?.Path);
        Assert.Null(TranscriptLocator.FindNew(TranscriptReaders.AuggieSession, sessions, "/w", since, new HashSet<string> { a, b }));
        Assert.Equal(elsewhere, TranscriptLocator.FindNew(TranscriptReaders.AuggieSession, sessions, "/other", since, None)?.Path);

        var unknown = Write("d", null);
        var found = TranscriptLocator.FindNew(TranscriptReaders.AuggieSession, sessions, "/w", since, None);
        Assert.Equal(unknown, found?.Path);
        Assert.Equal("hi d", found?.FirstUserMessage);
        Assert.DoesNotContain(unknown, TranscriptLocator.ListForWorkspace(TranscriptReaders.AuggieSession, sessions, "/w").Select(f => f.Path));
    }

    [Fact]
    public void ListForWorkspace_AuggieRealSession_FindsItByItsWorkspaceFolder()
    {
        using var temp = new TempDir();
        var path = temp.Combine(TestData.AuggieId + ".json");
        File.Copy(TestData.File("auggie", TestData.AuggieId + ".json"), path);

        var list = TranscriptLocator.ListForWorkspace(TranscriptReaders.AuggieSession, temp.Path, TestData.AuggieCwd);

        var file = Assert.Single(list);
        Assert.Equal(TestData.AuggieId, file.AgentSessionId);
        Assert.Equal(TestData.AuggieCwd, file.Cwd);
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T13:01:18.236Z", CultureInfo.InvariantCulture), file.Created);
        Assert.Equal("hello one", file.FirstUserMessage);
        Assert.Equal(path, TranscriptLocator.FindById(TranscriptReaders.AuggieSession, temp.Path, "/w", TestData.AuggieId)?.Path);
    }

    [Fact]
    public void FindNew_CreatedTime_IsTheBirthTimeAndDoesNotMoveWhenAppended()
    {
        using var temp = new TempDir();
        var sessions = temp.Combine("sessions");
        var since = DateTimeOffset.UtcNow;
        FileClockPast(temp.Path, since);
        var path = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000a", "/w", "first");
        var created = TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, None)!.Created;
        FileClockPast(temp.Path, created);

        Append.Lines(path, """{"timestamp":"2026-11-21T10:00:01.000Z","type":"event_msg","payload":{"type":"task_complete"}}""");

        Assert.True(File.GetLastWriteTimeUtc(path) > created.UtcDateTime, "the append did not move the file's last write time, so the test proves nothing");
        Assert.InRange(created, since, DateTimeOffset.UtcNow);
        Assert.Equal(created, TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, None)!.Created);
    }

    [Fact]
    public void CurrentSessionId_SnapshotsAroundClear_FollowsTheSwitch()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.Combine("sessions"));
        using var snapshots = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(TestData.File("claude", Path.Combine("sessions", "sessions-pid-json-snapshots.json"))));
        Assert.Null(ClaudeSessionsFile.CurrentSessionId(temp.Path, 18145));

        var seen = new List<string>();
        foreach (var snapshot in snapshots.RootElement.EnumerateArray())
        {
            File.WriteAllText(temp.Combine("sessions", snapshot.GetProperty("file").GetString()!), snapshot.GetProperty("json").GetRawText());
            var id = ClaudeSessionsFile.CurrentSessionId(temp.Path, 18145);
            seen.Add($"{snapshot.GetProperty("label").GetString()}={id}");
        }

        Assert.Equal(
        [
            $"ready={TestData.ClaudeBeforeClear}",
            $"after message 1={TestData.ClaudeBeforeClear}",
            $"after message 2={TestData.ClaudeBeforeClear}",
            $"after clear={TestData.ClaudeAfterClear}",
            $"after message 3={TestData.ClaudeAfterClear}",
            $"during slow turn={TestData.ClaudeAfterClear}",
            $"after interrupt={TestData.ClaudeAfterClear}",
        ], seen);
        File.WriteAllText(temp.Combine("sessions", "18145.json"), "{\"pid\": 18145, \"sessionId\": \"4c2");
        Assert.Null(ClaudeSessionsFile.CurrentSessionId(temp.Path, 18145)); // caught mid-write
        Assert.Null(ClaudeSessionsFile.CurrentSessionId(temp.Path, 1));
    }

    [Fact]
    public void FindNew_CodexTitleThread_IsNotAConversation()
    {
        using var temp = new TempDir();
        var sessions = temp.Combine("sessions");
        var since = DateTimeOffset.UtcNow;
        FileClockPast(temp.Path, since);
        var path = CodexRollout(sessions, "00000000-0000-0000-0000-00000000000a", "/w", "Generate a concise title");
        Assert.Equal(path, TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, None)?.Path); // found until marked a title thread
        var lines = File.ReadAllLines(path);
        lines[0] = lines[0].Replace("\"originator\"", "\"thread_source\":\"thread_title\",\"originator\"", StringComparison.Ordinal);
        File.WriteAllLines(path, lines);

        Assert.Null(TranscriptLocator.FindNew(TranscriptReaders.CodexRollout, sessions, "/w", since, None));
    }

    [Fact]
    public void FileStat_OnLinux_ReportsInodeAndBirthTime()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "statx is Linux only");
        using var temp = new TempDir();
        var path = temp.Combine("f");
        var before = DateTimeOffset.UtcNow.AddMilliseconds(-20); // the file system clock ticks coarsely
        File.WriteAllText(path, "x");

        var stat = FileStat.TryGet(path);

        Assert.NotNull(stat);
        Assert.NotEqual(0UL, stat.Value.Inode);
        Assert.Equal(1, stat.Value.Size);
        Assert.NotNull(stat.Value.Birth);
        Assert.InRange(stat.Value.Birth.Value, before, DateTimeOffset.UtcNow);
        Assert.Null(FileStat.TryGet(temp.Combine("missing")));
        Assert.Null(FileStat.TryGet(temp.Path)); // a directory is not a transcript
    }
}
