using System.Diagnostics;
using System.Text;

namespace AgentSidecar.Core.Transcripts.Tests;

/// <summary>Offsets, partial and bad lines, rewrites and restarts, on the real Codex and Claude files.</summary>
public sealed class JsonlReaderTests
{
    private static readonly string[] CodexExpected = TestData.Expected("codex", TestData.CodexRollout);

    private static List<byte[]> CodexLines() => TestData.Lines(TestData.Bytes("codex", TestData.CodexRollout));

    private static void Write(string path, IEnumerable<byte[]> lines) => File.WriteAllBytes(path, lines.SelectMany(l => l).ToArray());

    [Fact]
    public void ReadNew_MalformedLine_ReportsOneProblemAndGoesOn()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        var lines = CodexLines();
        lines.Insert(10, Encoding.UTF8.GetBytes("{\"timestamp\": not json at all\n"));
        Write(path, lines);
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);

        var items = reader.ReadNew();

        var problem = Assert.Single(items.OfType<TranscriptProblem>());
        Assert.Contains("not valid JSON", problem.Message, StringComparison.Ordinal);
        Assert.Equal(CodexExpected, ItemText.Format(items.Where(i => i is not TranscriptProblem)));
        Assert.Equal(new FileInfo(path).Length, reader.Watermark);
        Assert.Empty(reader.ReadNew());
    }

    [Fact]
    public void ReadNew_LineCutOffThenWritingResumed_ReportsTheCutLineAndReadsTheRest()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        var lines = CodexLines();
        // The agent died mid-line (line 17, "second msg"); a later run appended after the stub.
        lines[17] = [.. lines[17][..100]];
        Write(path, lines);
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);

        var items = reader.ReadNew();

        Assert.Single(items.OfType<TranscriptProblem>());
        var expected = CodexExpected.Where(l => !l.StartsWith("user: second msg", StringComparison.Ordinal));
        // The stub ran into the next line (the item_completed UserMessage event, which yields nothing anyway).
        Assert.Equal(expected, ItemText.Format(items.Where(i => i is not TranscriptProblem)));
    }

    [Fact]
    public void ReadNew_LineWithoutNewline_IsNotConsumedUntilComplete()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        var lines = CodexLines();
        Write(path, lines.Take(7));
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);
        Assert.Single(reader.ReadNew());
        long before = reader.Watermark;

        Append.Bytes(path, lines[7].AsSpan(0, lines[7].Length - 1)); // "hello one" without its '\n'
        Assert.Empty(reader.ReadNew());
        Assert.Empty(reader.ReadNew());
        Assert.Equal(before, reader.Watermark);

        Append.Text(path, "\n");
        var items = reader.ReadNew();
        Assert.Equal(["user: hello one @2026-11-21T13:01:15.345Z"], ItemText.Format(items));
        Assert.Equal(before + lines[7].Length, reader.Watermark);
    }

    [Fact]
    public void ReadNew_FileTruncatedThenRegrown_ReportsProblemAndRepeatsNothing()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        var lines = CodexLines();
        Write(path, lines);
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);
        Assert.Equal(CodexExpected, ItemText.Format(reader.ReadNew()));

        Write(path, lines.Take(14)); // shrunk in place: first turn only
        var afterShrink = reader.ReadNew();
        Assert.Equal(["problem"], afterShrink.Select(i => ItemText.Format(i).Split(':')[0]));

        Write(path, lines); // the same lines again, then a new turn
        Append.Lines(path, ResumedTurnLines);
        var items = reader.ReadNew();

        Assert.Equal(ResumedTurnExpected, ItemText.Format(items));
    }

    [Fact]
    public void ReadNew_FileReplacedByRename_ReportsProblemAndReturnsOnlyNewItems()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        var lines = CodexLines();
        Write(path, lines);
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);
        Assert.Equal(9, reader.ReadNew().Count);

        var replacement = temp.Combine("rollout.tmp");
        Write(replacement, lines);
        Append.Lines(replacement, ResumedTurnLines);
        File.Move(replacement, path, overwrite: true); // same size or larger, new inode
        var items = reader.ReadNew();

        var problem = Assert.IsType<TranscriptProblem>(items[0]);
        Assert.Contains("replaced", problem.Message, StringComparison.Ordinal);
        Assert.Equal(ResumedTurnExpected, ItemText.Format(items.Skip(1)));
    }

    [Fact]
    public void ReadNew_FileRewrittenInPlaceWithOtherContent_ReportsProblemAndReadsTheNewContent()
    {
        using var temp = new TempDir();
        var path = temp.Combine("session.jsonl");
        File.WriteAllBytes(path, TestData.Bytes("claude", TestData.ClaudeBeforeClear + ".jsonl"));
        var reader = TranscriptReaders.Open(TranscriptReaders.ClaudeJsonl, path);
        Assert.Equal(9, reader.ReadNew().Count);

        // Longer than before, so only the changed first bytes tell.
        File.WriteAllBytes(path, TestData.Bytes("claude", TestData.ClaudeAfterClear + ".jsonl"));
        var items = reader.ReadNew();

        Assert.Contains("rewritten in place", Assert.IsType<TranscriptProblem>(items[0]).Message, StringComparison.Ordinal);
        // The parser keeps its session (the first one); everything else of the new content comes out.
        var expected = TestData.Expected("claude", TestData.ClaudeAfterClear + ".jsonl").Skip(1);
        Assert.Equal(expected, ItemText.Format(items.Skip(1)));
    }

    [Fact]
    public void ReadNew_FileDeleted_ReportsOnceAndReturnsNothingMore()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        Write(path, CodexLines());
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);
        reader.ReadNew();

        File.Delete(path);

        Assert.IsType<TranscriptProblem>(Assert.Single(reader.ReadNew()));
        Assert.Empty(reader.ReadNew());
    }

    [Fact]
    public void Open_WithWatermark_ReturnsOnlyLaterItemsAndKnowsTheSession()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        var lines = CodexLines();
        Write(path, lines.Take(14));
        var first = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);
        Assert.Equal(CodexExpected.Take(5), ItemText.Format(first.ReadNew()));

        Write(path, lines);
        var second = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path, first.Watermark);
        var items = second.ReadNew();

        Assert.Equal(CodexExpected.Skip(5), ItemText.Format(items));
        Assert.Equal(TestData.CodexId, second.AgentSessionId);
    }

    [Fact]
    public void Open_WithWatermarkBetweenEndTurnAndTurnDuration_CompletesTheTurnOnce()
    {
        using var temp = new TempDir();
        var path = temp.Combine("claude.jsonl");
        var name = TestData.ClaudeBeforeClear + ".jsonl";
        var lines = TestData.Lines(TestData.Bytes("claude", name));
        Write(path, lines.Take(7)); // up to the first answer (stop_reason end_turn)
        var first = TranscriptReaders.Open(TranscriptReaders.ClaudeJsonl, path);
        var before = first.ReadNew();

        Write(path, lines);
        var second = TranscriptReaders.Open(TranscriptReaders.ClaudeJsonl, path, first.Watermark);
        var after = second.ReadNew();

        Assert.Equal(TestData.Expected("claude", name), ItemText.Format(before.Concat(after)));
        Assert.Contains("turn-done: last=PONG: hello one duration=103", ItemText.Format(after)[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WithWatermarkInsideALine_ReportsProblemAndSkipsToTheNextLine()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        var lines = CodexLines();
        Write(path, lines);
        long insideLine7 = lines.Take(7).Sum(l => l.Length) + 5;

        var items = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path, insideLine7).ReadNew();

        Assert.IsType<TranscriptProblem>(items[0]);
        Assert.Equal(CodexExpected.Skip(2), ItemText.Format(items.Skip(1)));
    }

    [Fact]
    public void Open_WithWatermarkBeyondTheEnd_ReportsProblemAndReadsFromTheStart()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        Write(path, CodexLines());

        var items = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path, 10_000_000).ReadNew();

        Assert.IsType<TranscriptProblem>(items[0]);
        Assert.Equal(CodexExpected, ItemText.Format(items.Skip(1)));
    }

    [Fact]
    public void ReadNew_CodexResumeAppendsToTheSameFile_ReturnsOnlyTheNewTurn()
    {
        using var temp = new TempDir();
        var path = temp.Combine("rollout.jsonl");
        Write(path, CodexLines());
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, path);
        Assert.Equal(CodexExpected, ItemText.Format(reader.ReadNew()));

        Append.Lines(path, ResumedTurnLines);

        Assert.Equal(ResumedTurnExpected, ItemText.Format(reader.ReadNew()));
        Assert.Empty(reader.ReadNew());
    }

    [Fact]
    public void ReadNew_NothingNew_IsCheap()
    {
        var reader = TranscriptReaders.Open(TranscriptReaders.CodexRollout, TestData.File("codex", TestData.CodexRollout));
        reader.ReadNew();

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 5000; i++)
        {
            Assert.Empty(reader.ReadNew());
        }

        // One stat per call: microseconds. Parsing the file each time would take far longer.
        Assert.True(watch.ElapsedMilliseconds < 2000, $"5000 idle polls took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void ReadNew_FileNotThereYet_ReturnsNothingUntilItAppears()
    {
        using var temp = new TempDir();
        var path = temp.Combine("later.jsonl");
        var reader = TranscriptReaders.Open(TranscriptReaders.ClaudeJsonl, path);

        Assert.Empty(reader.ReadNew());
        Assert.Null(reader.AgentSessionId);
        File.WriteAllBytes(path, TestData.Bytes("claude", TestData.ClaudeBeforeClear + ".jsonl"));

        Assert.Equal(9, reader.ReadNew().Count);
        Assert.Equal(TestData.ClaudeBeforeClear, reader.AgentSessionId);
    }

    // A `codex resume` of the recorded thread: its lines modelled on the recorded second turn.
    private static readonly string[] ResumedTurnLines =
    [
        """{"timestamp":"2026-11-21T14:00:00.000Z","ordinal":24,"type":"session_meta","payload":{"id":"01a1fe32-5a3b-7c51-abfb-b6ccd3aa101c","cwd":"/elsewhere"}}""",
        """{"timestamp":"2026-11-21T14:00:00.100Z","ordinal":25,"type":"event_msg","payload":{"type":"task_started","turn_id":"t3"}}""",
        """{"timestamp":"2026-11-21T14:00:00.200Z","ordinal":26,"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"third one"}],"internal_chat_message_metadata_passthrough":{"content_item_kinds":["user.text"]}}}""",
        """{"timestamp":"2026-11-21T14:00:00.210Z","ordinal":27,"type":"event_msg","payload":{"type":"item_completed","item":{"type":"UserMessage","content":[{"type":"text","text":"third one"}]}}}""",
        """{"timestamp":"2026-11-21T14:00:00.300Z","ordinal":28,"type":"response_item","payload":{"type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"PONG:third one"}]}}""",
        """{"timestamp":"2026-11-21T14:00:00.310Z","ordinal":29,"type":"token_usage_record","payload":{"usage":{"input_tokens":12,"cached_input_tokens":4,"output_tokens":6}}}""",
        """{"timestamp":"2026-11-21T14:00:00.320Z","ordinal":30,"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":32,"cached_input_tokens":4,"output_tokens":16},"last_token_usage":{"input_tokens":12,"cached_input_tokens":4,"output_tokens":6}}}}""",
        """{"timestamp":"2026-11-21T14:00:00.330Z","ordinal":31,"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":32,"cached_input_tokens":4,"output_tokens":16},"last_token_usage":{"input_tokens":12,"cached_input_tokens":4,"output_tokens":6}}}}""",
        """{"timestamp":"2026-11-21T14:00:00.400Z","ordinal":32,"type":"event_msg","payload":{"type":"task_complete","last_agent_message":"PONG:third one","duration_ms":300}}""",
    ];

    private static readonly string[] ResumedTurnExpected =
    [
        "user: third one @2026-11-21T14:00:00.200Z",
        "assistant: PONG:third one @2026-11-21T14:00:00.300Z",
        "usage: in=12 out=6 cached=4 @2026-11-21T14:00:00.320Z",
        "turn-done: last=PONG:third one duration=300 @2026-11-21T14:00:00.400Z",
    ];
}
