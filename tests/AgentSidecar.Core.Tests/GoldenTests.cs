using System.Text.Json.Nodes;

namespace AgentSidecar.Core.Transcripts.Tests;

/// <summary>Each reader on the real recorded files, whole and fed piece by piece, against the hand-written expected lists.</summary>
public sealed class GoldenTests
{
    public static TheoryData<string, string, string, string> AllFiles => new()
    {
        { TranscriptReaders.CodexRollout, "codex", TestData.CodexRollout, TestData.CodexId },
        { TranscriptReaders.ClaudeJsonl, "claude", TestData.ClaudeBeforeClear + ".jsonl", TestData.ClaudeBeforeClear },
        { TranscriptReaders.ClaudeJsonl, "claude", TestData.ClaudeAfterClear + ".jsonl", TestData.ClaudeAfterClear },
        { TranscriptReaders.AuggieSession, "auggie", TestData.AuggieId + ".json", TestData.AuggieId },
    };

    public static TheoryData<string, string, string> JsonlFiles => new()
    {
        { TranscriptReaders.CodexRollout, "codex", TestData.CodexRollout },
        { TranscriptReaders.ClaudeJsonl, "claude", TestData.ClaudeBeforeClear + ".jsonl" },
        { TranscriptReaders.ClaudeJsonl, "claude", TestData.ClaudeAfterClear + ".jsonl" },
    };

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void ReadNew_RealFile_ReturnsExpectedItems(string kind, string dir, string name, string sessionId)
    {
        var reader = TranscriptReaders.Open(kind, TestData.File(dir, name));

        var items = reader.ReadNew();

        Assert.Equal(TestData.Expected(dir, name), ItemText.Format(items));
        Assert.Equal(sessionId, reader.AgentSessionId);
        Assert.Empty(reader.ReadNew());
    }

    [Theory]
    [MemberData(nameof(JsonlFiles))]
    public void ReadNew_FedLineByLine_ReturnsExpectedItemsOnce(string kind, string dir, string name)
    {
        using var temp = new TempDir();
        var path = temp.Combine(name);
        var reader = TranscriptReaders.Open(kind, path);
        var all = new List<TranscriptItem>(reader.ReadNew());

        foreach (var line in TestData.Lines(TestData.Bytes(dir, name)))
        {
            Append.Bytes(path, line);
            all.AddRange(reader.ReadNew());
            Assert.Equal(new FileInfo(path).Length, reader.Watermark);
        }

        Assert.Equal(TestData.Expected(dir, name), ItemText.Format(all));
    }

    [Theory]
    [MemberData(nameof(JsonlFiles))]
    public void ReadNew_FedByteByByte_ConsumesOnlyCompleteLines(string kind, string dir, string name)
    {
        using var temp = new TempDir();
        var path = temp.Combine(name);
        var bytes = TestData.Bytes(dir, name);
        var reader = TranscriptReaders.Open(kind, path);
        var all = new List<TranscriptItem>();

        for (int i = 0; i < bytes.Length; i++)
        {
            Append.Bytes(path, bytes.AsSpan(i, 1));
            all.AddRange(reader.ReadNew());
            // The watermark only ever sits just after a '\n'.
            int lastNewline = Array.LastIndexOf(bytes, (byte)'\n', i);
            Assert.Equal(lastNewline + 1, reader.Watermark);
        }

        Assert.Equal(TestData.Expected(dir, name), ItemText.Format(all));
    }

    [Theory]
    [MemberData(nameof(JsonlFiles))]
    public void ReadNew_RandomChunksAndRestarts_ReturnsEveryItemExactlyOnce(string kind, string dir, string name)
    {
        var bytes = TestData.Bytes(dir, name);
        for (int seed = 1; seed <= 20; seed++)
        {
            using var temp = new TempDir();
            var path = temp.Combine(name);
            var random = new Random(seed);
            var reader = TranscriptReaders.Open(kind, path);
            var all = new List<TranscriptItem>();
            int written = 0;
            while (written < bytes.Length)
            {
                int n = Math.Min(bytes.Length - written, random.Next(1, 900));
                Append.Bytes(path, bytes.AsSpan(written, n));
                written += n;
                for (int polls = random.Next(0, 3); polls >= 0; polls--)
                {
                    all.AddRange(reader.ReadNew());
                }
                if (random.Next(4) == 0)
                {
                    // The product restarts and reopens with the persisted watermark.
                    reader = TranscriptReaders.Open(kind, path, reader.Watermark);
                }
            }
            all.AddRange(reader.ReadNew());

            Assert.Equal(TestData.Expected(dir, name), ItemText.Format(all));
        }
    }

    [Fact]
    public void ReadNew_AuggieExchangesAddedByRewrites_ReturnsExpectedItemsOnce()
    {
        using var temp = new TempDir();
        var path = temp.Combine(TestData.AuggieId + ".json");
        var full = JsonNode.Parse(TestData.Bytes("auggie", TestData.AuggieId + ".json"))!.AsObject();
        var first = full.DeepClone().AsObject();
        first["chatHistory"]!.AsArray().RemoveAt(1);
        var reader = TranscriptReaders.Open(TranscriptReaders.AuggieSession, path);

        var all = new List<TranscriptItem>(reader.ReadNew());
        File.WriteAllText(path, first.ToJsonString());
        all.AddRange(reader.ReadNew());
        Assert.Equal(1, reader.Watermark);
        File.WriteAllText(path, full.ToJsonString());
        all.AddRange(reader.ReadNew());
        all.AddRange(reader.ReadNew());

        Assert.Equal(TestData.Expected("auggie", TestData.AuggieId + ".json"), ItemText.Format(all));
        Assert.Equal(2, reader.Watermark);
    }
}
