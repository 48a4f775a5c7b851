using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// Claude Code keeps <c>~/.claude/sessions/&lt;pid&gt;.json</c> ({pid, sessionId, cwd, status, …}) while it runs;
/// its sessionId switches at /clear, which tells which transcript file is now being written.
/// </summary>
public static class ClaudeSessionsFile
{
    /// <summary>The current session id of the claude process <paramref name="pid"/>, or null (not running, not written yet, mid-write).</summary>
    public static string? CurrentSessionId(string claudeHome, int pid)
    {
        ArgumentException.ThrowIfNullOrEmpty(claudeHome);
        var path = Path.Combine(claudeHome, "sessions", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".json");
        try
        {
            using var stream = JsonlLines.TryOpen(path);
            if (stream is null)
            {
                return null;
            }
            using var doc = JsonDocument.Parse(stream, TranscriptJson.Options);
            var root = doc.RootElement;
            if (root.Long("pid") is { } recordedPid && recordedPid != pid)
            {
                return null;
            }
            return root.Str("sessionId") is { Length: > 0 } id ? id : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
