using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// A Codex tool call's output as its rollout records it: a string, either JSON
/// (<c>{"output": "…", "metadata": {"exit_code": 0}}</c>) or text that starts with
/// <c>Exit code: N</c> and has the command's output after an <c>Output:</c> line; or an object.
/// </summary>
internal static partial class CodexToolOutput
{
    public static ToolResult Read(string callId, JsonElement output, DateTimeOffset? ts)
    {
        if (output.ValueKind == JsonValueKind.String && output.GetString() is { } text)
        {
            if (text.StartsWith('{') && TryJson(text) is { } parsed)
            {
                using (parsed)
                {
                    return FromObject(callId, parsed.RootElement, ts);
                }
            }

            var code = ExitCodeLine().Match(text) is { Success: true } m && int.TryParse(m.Groups["code"].Value, out var c) ? c : (int?)null;
            var body = OutputLine().Match(text) is { Success: true } o ? text[(o.Index + o.Length)..] : text;

            // A command the user refused never ran: its "output" says so.
            var refused = AbortedLine().IsMatch(text);
            return new ToolResult(callId, refused ? "aborted by user" : body, refused || code is not null and not 0, code, ts);
        }

        return output.ValueKind == JsonValueKind.Object ? FromObject(callId, output, ts) : new ToolResult(callId, null, false, null, ts);
    }

    private static ToolResult FromObject(string callId, JsonElement o, DateTimeOffset? ts)
    {
        var code = o.Prop("metadata").Long("exit_code") is { } c ? (int)c : (int?)null;
        return new ToolResult(callId, o.Str("output") ?? o.Str("content"), code is not null and not 0 || o.Bool("success") == false, code, ts);
    }

    private static JsonDocument? TryJson(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // "Exit code: N" (apply_patch), "Process exited with code N" (exec_command in 0.169).
    [GeneratedRegex(@"^(?:Exit code:|Process exited with code) (?<code>-?\d+)", RegexOptions.Multiline)]
    private static partial Regex ExitCodeLine();

    [GeneratedRegex(@"^Output:\r?\n", RegexOptions.Multiline)]
    private static partial Regex OutputLine();

    [GeneratedRegex(@"^aborted by user\s*$", RegexOptions.Multiline)]
    private static partial Regex AbortedLine();
}
