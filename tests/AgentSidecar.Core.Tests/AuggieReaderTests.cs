namespace AgentSidecar.Core.Transcripts.Tests;

public sealed class AuggieReaderTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ReadNew_FileCaughtMidRewrite_ReportsOnceThenReadsTheCompleteFile()
    {
        using var temp = new TempDir();
        var path = temp.Combine("s1.json");
        var doc = AuggieFiles.Document("s1", Created, AuggieFiles.Entry("r1", "hi", "hello"));
        File.WriteAllText(path, doc[..(doc.Length / 2)]);
        var reader = TranscriptReaders.Open(TranscriptReaders.AuggieSession, path);

        Assert.IsType<TranscriptProblem>(Assert.Single(reader.ReadNew()));
        Assert.Empty(reader.ReadNew()); // same broken state: tried again, not reported again
        File.WriteAllText(path, doc);
        var items = reader.ReadNew();

        Assert.Equal(
        [
            "session: s1 cwd=/w @2026-11-21T10:00:00.000Z",
            "user: hi @2026-11-21T10:00:00.500Z",
            "assistant: hello @2026-11-21T10:00:01.000Z",
            "turn-done: last=hello duration=- @2026-11-21T10:00:01.000Z",
        ], ItemText.Format(items));
        Assert.Equal(1, reader.Watermark);
    }

    [Fact]
    public void Open_WithWatermark_ReturnsOnlyLaterExchanges()
    {
        var reader = TranscriptReaders.Open(TranscriptReaders.AuggieSession, TestData.File("auggie", TestData.AuggieId + ".json"), watermark: 1);

        var items = reader.ReadNew();

        Assert.Equal(TestData.Expected("auggie", TestData.AuggieId + ".json").Skip(4), ItemText.Format(items));
        Assert.Equal(TestData.AuggieId, reader.AgentSessionId);
        Assert.Equal(2, reader.Watermark);
    }

    [Fact]
    public void ReadNew_InterruptedExchange_ReturnsPartialAnswerAndTurnAborted()
    {
        using var temp = new TempDir();
        var path = temp.Combine("s1.json");
        File.WriteAllText(path, AuggieFiles.Document("s1", Created, AuggieFiles.Entry("r1", "SLOW", "t", completed: false)));

        var items = TranscriptReaders.Open(TranscriptReaders.AuggieSession, path).ReadNew();

        Assert.Equal(["assistant: t @2026-11-21T10:00:01.000Z", "turn-aborted: reason=interrupted @2026-11-21T10:00:01.000Z"],
            ItemText.Format(items).Skip(2));
    }

    [Fact]
    public void ReadNew_ToolExchangeThenFinalAnswer_CompletesTheTurnOnlyAtTheEnd()
    {
        using var temp = new TempDir();
        var path = temp.Combine("s1.json");
        File.WriteAllText(path, AuggieFiles.Document("s1", Created,
            AuggieFiles.Entry("r1", "list files", "Let me look.", extraResponseNodes: AuggieFiles.ToolUseNode("launch-process"), textOnlyInNodes: true),
            AuggieFiles.Entry("r2", "", "One file.", finishedAt: "2026-11-21T10:00:02.000Z")));

        var items = TranscriptReaders.Open(TranscriptReaders.AuggieSession, path).ReadNew();

        Assert.Equal(
        [
            "session: s1 cwd=/w @2026-11-21T10:00:00.000Z",
            "user: list files @2026-11-21T10:00:00.500Z",
            "assistant: Let me look. @2026-11-21T10:00:01.000Z",
            "tool: launch-process id=tu1 @2026-11-21T10:00:00.600Z",
            "assistant: One file. @2026-11-21T10:00:02.000Z",
            "turn-done: last=One file. duration=- @2026-11-21T10:00:02.000Z",
        ], ItemText.Format(items));
    }

    [Fact]
    public void ReadNew_HistoryShrunkThenRegrown_ReportsProblemAndRepeatsNothing()
    {
        using var temp = new TempDir();
        var path = temp.Combine("s1.json");
        var one = AuggieFiles.Entry("r1", "a", "A");
        var two = AuggieFiles.Entry("r2", "b", "B");
        File.WriteAllText(path, AuggieFiles.Document("s1", Created, one, two));
        var reader = TranscriptReaders.Open(TranscriptReaders.AuggieSession, path);
        Assert.Equal(7, reader.ReadNew().Count);

        File.WriteAllText(path, AuggieFiles.Document("s1", Created, one));
        Assert.IsType<TranscriptProblem>(Assert.Single(reader.ReadNew()));
        File.WriteAllText(path, AuggieFiles.Document("s1", Created, one, two, AuggieFiles.Entry("r3", "c", "C")));
        var items = reader.ReadNew();

        Assert.Equal(["user: c", "assistant: C", "turn-done: last=C duration=-"], ItemText.Format(items).Select(s => s.Split(" @")[0]));
        Assert.Equal(3, reader.Watermark);
    }

    [Fact]
    public void ReadNew_RewrittenWithoutNewExchanges_ReturnsNothing()
    {
        using var temp = new TempDir();
        var path = temp.Combine("s1.json");
        var doc = AuggieFiles.Document("s1", Created, AuggieFiles.Entry("r1", "a", "A"));
        File.WriteAllText(path, doc);
        var reader = TranscriptReaders.Open(TranscriptReaders.AuggieSession, path);
        Assert.Equal(4, reader.ReadNew().Count);

        // At /new Auggie rewrites the old file once more with only "modified" changed.
        File.WriteAllText(path, doc.Replace("\"t\"", "\"a new title\"", StringComparison.Ordinal));

        Assert.Empty(reader.ReadNew());
    }

    [Fact]
    public void ReadNew_FileDeleted_ReportsOnce()
    {
        using var temp = new TempDir();
        var path = temp.Combine("s1.json");
        File.WriteAllText(path, AuggieFiles.Document("s1", Created, AuggieFiles.Entry("r1", "a", "A")));
        var reader = TranscriptReaders.Open(TranscriptReaders.AuggieSession, path);
        reader.ReadNew();

        File.Delete(path);

        Assert.IsType<TranscriptProblem>(Assert.Single(reader.ReadNew()));
        Assert.Empty(reader.ReadNew());
    }
}
