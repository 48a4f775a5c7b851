using System.Text.RegularExpressions;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// An Auggie tool result as its session file keeps it: launch-process answers
/// <c>…&lt;return-code&gt;N&lt;/return-code&gt;&lt;output&gt;…&lt;/output&gt;</c>, other tools plain text.
/// </summary>
internal static partial class AuggieToolOutput
{
    public static ToolResult Read(string callId, string? content, bool isError, DateTimeOffset? ts)
    {
        if (content is null)
        {
            return new ToolResult(callId, null, isError, null, ts);
        }

        var code = ReturnCode().Match(content) is { Success: true } m && int.TryParse(m.Groups["code"].Value, out var c) ? c : (int?)null;
        var output = Output().Match(content) is { Success: true } o ? o.Groups["output"].Value : content;
        return new ToolResult(callId, output, isError || code is not null and not 0, code, ts);
    }

    [GeneratedRegex(@"<return-code>\s*(?<code>-?\d+)\s*</return-code>")]
    private static partial Regex ReturnCode();

    [GeneratedRegex(@"<output>\n?(?<output>[\s\S]*?)</output>")]
    private static partial Regex Output();
}
