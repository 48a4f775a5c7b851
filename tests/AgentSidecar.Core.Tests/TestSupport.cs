using System.Globalization;
using System.Text;

namespace AgentSidecar.Core.Transcripts.Tests;

/// <summary>A scratch folder under the system temp dir, removed at the end of the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("transcripts-tests-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class TestData
{
    public static string Dir(string kind) => Path.Combine(AppContext.BaseDirectory, "testdata", "transcripts", kind);

    public const string CodexRollout = "rollout-2026-11-21T13-01-15-01a1fe32-5a3b-7c51-abfb-b6ccd3aa101c.jsonl";
    public const string CodexId = "01a1fe32-5a3b-7c51-abfb-b6ccd3aa101c";
    public const string CodexCwd = "/work/agents-lab/tests/bin/Debug/net10.0/agent-runs/codex-golden-9b407ab9/ws";
    public const string ClaudeBeforeClear = "ce3ef2d7-f476-44b9-b7ae-02dd806448e3";
    public const string ClaudeAfterClear = "4c248131-50a8-458e-a899-ad525ca8a8d8";
    public const string ClaudeCwd = "/tmp/workspace";
    public const string AuggieId = "5ea7cfa2-71ed-4add-b4e1-9558dacd5c33";
    public const string AuggieCwd = "/work/agents-lab/tests/bin/Debug/net10.0/agent-runs/auggie-golden-d84b980d/ws";

    public static string File(string kind, string name) => Path.Combine(Dir(kind), name);

    public static byte[] Bytes(string kind, string name) => System.IO.File.ReadAllBytes(File(kind, name));

    public static string[] Expected(string kind, string name) =>
        System.IO.File.ReadAllLines(File(kind, name + ".expected.txt")).Where(l => l.Length > 0).ToArray();

    /// <summary>The lines of a JSONL file, each with its '\n'.</summary>
    public static List<byte[]> Lines(byte[] bytes)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n')
            {
                lines.Add(bytes[start..(i + 1)]);
                start = i + 1;
            }
        }
        if (start < bytes.Length)
        {
            lines.Add(bytes[start..]);
        }
        return lines;
    }
}

/// <summary>The golden-file text form of an item (see testdata/transcripts/README.md).</summary>
internal static class ItemText
{
    public static string Format(TranscriptItem item)
    {
        var text = item switch
        {
            SessionStarted s => $"session: {s.AgentSessionId} cwd={s.Cwd ?? "-"}",
            UserMessage u => $"user: {Escape(u.Text)}",
            AssistantMessage a => $"assistant: {Escape(a.Text)}",
            ToolCall t => $"tool: {t.Name}{(t.CallId is null ? string.Empty : $" id={t.CallId}")}",
            ToolResult r => $"tool-result: id={r.CallId} error={r.IsError} exit={(r.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-")} output={Escape(r.Output ?? "-")}",
            UsageReported u => $"usage: in={u.InputTokens} out={u.OutputTokens} cached={u.CachedInputTokens}",
            TurnCompleted t => $"turn-done: last={Escape(t.LastAgentMessage ?? "-")} duration={(t.DurationMs?.ToString(CultureInfo.InvariantCulture) ?? "-")}",
            TurnAborted t => $"turn-aborted: reason={t.Reason ?? "-"}",
            TranscriptProblem p => $"problem: {p.Message}",
            _ => item.ToString() ?? "?",
        };
        return item.Ts is { } ts ? $"{text} @{ts.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}" : text;
    }

    public static string[] Format(IEnumerable<TranscriptItem> items) => items.Select(Format).ToArray();

    private static string Escape(string s) => s.Replace("\n", "\\n", StringComparison.Ordinal);
}

/// <summary>Writes a growing file the way an agent does: appends, flushes, never closes it for others.</summary>
internal static class Append
{
    public static void Bytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.Write(bytes);
    }

    public static void Text(string path, string text) => Bytes(path, Encoding.UTF8.GetBytes(text));

    public static void Lines(string path, params string[] lines) => Text(path, string.Concat(lines.Select(l => l + "\n")));
}
