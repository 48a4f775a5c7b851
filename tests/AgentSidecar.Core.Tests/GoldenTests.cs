using System.Text.Json.Nodes;
using AgentSidecar.Core.Tests;

namespace AgentSidecar.Core.Transcripts.Tests;

/// <summary>
/// Each reader on the real recorded files, whole and fed piece by piece, against the hand-written
/// expected lists. A case is a transcript file under tests/testdata/transcripts/&lt;agent&gt;/ (its top
/// level; subfolders hold other data) with &lt;file&gt;.expected.txt (the items) and &lt;file&gt;.expected.json
/// (<c>{reader, agentSessionId}</c>), found by enumerating the folders: see the README there.
/// </summary>
public sealed class GoldenTests
{
    private const string ItemsSuffix = ".expected.txt";
    private const string CaseSuffix = ".expected.json";

    private static string Root => GoldenCases.Directory("transcripts");

    /// <summary>Every transcript file, as "agent/file".</summary>
    public static TheoryData<string> AllFiles() => CaseData(_ => true);

    /// <summary>The JSONL transcripts (appended line by line as the agent writes them).</summary>
    public static TheoryData<string> JsonlFiles() => CaseData(name => name.EndsWith(".jsonl", StringComparison.Ordinal));

    [Fact]
    public void Cases_AreFoundOnDisk_AndEachHasItsExpectedFiles()
    {
        var cases = Cases(_ => true).ToList();
        Assert.NotEmpty(cases);
        var missing = cases.SelectMany(c => new[] { c + ItemsSuffix, c + CaseSuffix })
            .Where(f => !File.Exists(Path.Combine(Root, f))).ToList();
        Assert.True(missing.Count == 0, $"golden transcripts without their expected files: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void ReadNew_RealFile_ReturnsExpectedItems(string name)
    {
        var golden = Load(name);
        var reader = TranscriptReaders.Open(golden.Reader, golden.Path);

        var items = reader.ReadNew();

        Assert.Equal(golden.Items, ItemText.Format(items));
        Assert.Equal(golden.AgentSessionId, reader.AgentSessionId);
        Assert.Empty(reader.ReadNew());
    }

    [Theory]
    [MemberData(nameof(JsonlFiles))]
    public void ReadNew_FedLineByLine_ReturnsExpectedItemsOnce(string name)
    {
        var golden = Load(name);
        using var temp = new TempDir();
        var path = temp.Combine(Path.GetFileName(name));
        var reader = TranscriptReaders.Open(golden.Reader, path);
        var all = new List<TranscriptItem>(reader.ReadNew());

        foreach (var line in TestData.Lines(golden.Bytes))
        {
            Append.Bytes(path, line);
            all.AddRange(reader.ReadNew());
            Assert.Equal(new FileInfo(path).Length, reader.Watermark);
        }

        Assert.Equal(golden.Items, ItemText.Format(all));
    }

    [Theory]
    [MemberData(nameof(JsonlFiles))]
    public void ReadNew_FedByteByByte_ConsumesOnlyCompleteLines(string name)
    {
        var golden = Load(name);
        using var temp = new TempDir();
        var path = temp.Combine(Path.GetFileName(name));
        var bytes = golden.Bytes;
        var reader = TranscriptReaders.Open(golden.Reader, path);
        var all = new List<TranscriptItem>();

        for (int i = 0; i < bytes.Length; i++)
        {
            Append.Bytes(path, bytes.AsSpan(i, 1));
            all.AddRange(reader.ReadNew());
            // The watermark only ever sits just after a '\n'.
            int lastNewline = Array.LastIndexOf(bytes, (byte)'\n', i);
            Assert.Equal(lastNewline + 1, reader.Watermark);
        }

        Assert.Equal(golden.Items, ItemText.Format(all));
    }

    [Theory]
    [MemberData(nameof(JsonlFiles))]
    public void ReadNew_RandomChunksAndRestarts_ReturnsEveryItemExactlyOnce(string name)
    {
        var golden = Load(name);
        var bytes = golden.Bytes;
        for (int seed = 1; seed <= 20; seed++)
        {
            using var temp = new TempDir();
            var path = temp.Combine(Path.GetFileName(name));
            var random = new Random(seed);
            var reader = TranscriptReaders.Open(golden.Reader, path);
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
                    reader = TranscriptReaders.Open(golden.Reader, path, reader.Watermark);
                }
            }
            all.AddRange(reader.ReadNew());

            Assert.Equal(golden.Items, ItemText.Format(all));
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

    /// <summary>Transcript files: the top level of each agent folder, less the expectation files.</summary>
    private static IEnumerable<string> Cases(Func<string, bool> include) =>
        Directory.GetDirectories(Root).Order(StringComparer.Ordinal)
            .SelectMany(agent => Directory.GetFiles(agent).Order(StringComparer.Ordinal))
            .Where(f => !f.EndsWith(ItemsSuffix, StringComparison.Ordinal) && !f.EndsWith(CaseSuffix, StringComparison.Ordinal) && include(f))
            .Select(f => Path.GetRelativePath(Root, f));

    private static TheoryData<string> CaseData(Func<string, bool> include)
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases(include))
        {
            data.Add(name);
        }

        return data;
    }

    private static GoldenTranscript Load(string name)
    {
        var path = Path.Combine(Root, name);
        var json = GoldenCases.ReadJson(path + CaseSuffix);
        Assert.True(File.Exists(path + ItemsSuffix), $"the golden transcript {name} has no {name}{ItemsSuffix}");
        var items = File.ReadAllLines(path + ItemsSuffix).Where(l => l.Length > 0).ToArray();
        return new GoldenTranscript(
            path,
            GoldenCases.RequiredString(json, "reader", path + CaseSuffix),
            GoldenCases.RequiredString(json, "agentSessionId", path + CaseSuffix),
            items,
            File.ReadAllBytes(path));
    }

    private sealed record GoldenTranscript(string Path, string Reader, string AgentSessionId, string[] Items, byte[] Bytes);
}
