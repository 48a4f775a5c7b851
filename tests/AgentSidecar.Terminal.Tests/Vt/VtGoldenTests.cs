using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

/// <summary>
/// Golden screens: every folder under tests/testdata/vt holds an input (input.bin with raw bytes, or
/// input.jsonl with recorded PTY chunks {t, dir, b64}; only dir "out" is fed), an optional size.txt
/// ("COLSxROWS", default 80x24) and expected.txt: one line per row, then "cursor: row,col" (0-based).
/// </summary>
public sealed class VtGoldenTests
{
    private const int DefaultCols = 80;
    private const int DefaultRows = 24;
    private const string CursorPrefix = "cursor: ";

    /// <summary>tests/testdata/vt, copied next to the test binary or found by walking up from it.</summary>
    public static string CasesDirectory { get; } = FindCasesDirectory();

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (string directory in Directory.GetDirectories(CasesDirectory).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(directory));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_CaseFedInRecordedChunks_MatchesExpectedScreen(string caseName)
    {
        GoldenCase golden = Load(caseName);
        var screen = new VtScreen(golden.Cols, golden.Rows);
        foreach (byte[] chunk in golden.Chunks)
        {
            screen.Feed(chunk);
        }

        Assert.Equal(golden.Expected, Describe(screen));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_CaseFedByteByByte_MatchesExpectedScreen(string caseName)
    {
        GoldenCase golden = Load(caseName);
        var screen = new VtScreen(golden.Cols, golden.Rows);
        FeedInChunks(screen, golden.Chunks.SelectMany(chunk => chunk).ToArray(), 1);

        Assert.Equal(golden.Expected, Describe(screen));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_CaseRenderedAndReplayed_MatchesExpectedScreen(string caseName)
    {
        GoldenCase golden = Load(caseName);
        var screen = new VtScreen(golden.Cols, golden.Rows);
        screen.Feed(golden.Chunks.SelectMany(chunk => chunk).ToArray());

        var replica = new VtScreen(golden.Cols, golden.Rows);
        replica.Feed(screen.RenderAnsi(includeScrollback: true));

        Assert.Equal(golden.Expected, Describe(replica));
    }

    /// <summary>Reads the "out" chunks of a recorded PTY session.</summary>
    public static IEnumerable<byte[]> ReadRecordedChunks(string path)
    {
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            if (root.GetProperty("dir").GetString() == "out")
            {
                yield return Convert.FromBase64String(root.GetProperty("b64").GetString()!);
            }
        }
    }

    private static string Describe(VtScreen screen)
    {
        var builder = new StringBuilder();
        foreach (string line in screen.GetLines())
        {
            builder.Append(line).Append('\n');
        }

        builder.Append(CultureInfo.InvariantCulture, $"{CursorPrefix}{screen.Cursor.Row},{screen.Cursor.Col}\n");
        return builder.ToString();
    }

    private static GoldenCase Load(string caseName)
    {
        string directory = Path.Combine(CasesDirectory, caseName);
        (int cols, int rows) = ReadSize(Path.Combine(directory, "size.txt"));
        string binPath = Path.Combine(directory, "input.bin");
        List<byte[]> chunks = File.Exists(binPath)
            ? [File.ReadAllBytes(binPath)]
            : [.. ReadRecordedChunks(Path.Combine(directory, "input.jsonl"))];
        string expected = File.ReadAllText(Path.Combine(directory, "expected.txt"), Encoding.UTF8).ReplaceLineEndings("\n");
        return new GoldenCase(cols, rows, chunks, expected);
    }

    private static (int Cols, int Rows) ReadSize(string path)
    {
        if (!File.Exists(path))
        {
            return (DefaultCols, DefaultRows);
        }

        string[] parts = File.ReadAllText(path).Trim().Split('x');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static string FindCasesDirectory()
    {
        string copied = Path.Combine(AppContext.BaseDirectory, "testdata", "vt");
        if (Directory.Exists(copied))
        {
            return copied;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "testdata", "vt");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/testdata/vt not found next to or above " + AppContext.BaseDirectory);
    }

    private sealed record GoldenCase(int Cols, int Rows, IReadOnlyList<byte[]> Chunks, string Expected);
}
