using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AgentSidecar.Core.Chat;

namespace AgentSidecar.Cli;

/// <summary>
/// How the chat prints: markers and colours on a terminal; ASCII markers and no escape codes when
/// stdout is a pipe or a file (docs/cli.md), colours also off with <c>NO_COLOR</c>. Lines longer than
/// <paramref name="Width"/> are cut.
/// </summary>
internal sealed record ChatStyle(bool Unicode, bool Color, int Width)
{
    /// <summary>Piped output's line length, as the other commands' (docs/cli.md).</summary>
    public const int PipeWidth = 240;

    public static ChatStyle Plain { get; } = new(Unicode: false, Color: false, PipeWidth);
}

/// <summary>
/// Turns the items of a turn (<c>chat/tool</c>, <c>chat/plan</c>, <c>chat/approval</c> events) into
/// the lines the chat prints. Each item is re-sent whole on every change, so this remembers what it
/// printed and prints only what is new: a tool call's start once, its end once, a file's diff once
/// per diff, a plan when it changes, an approval's question once and each outcome once. Pure (no
/// console); not thread-safe: the caller serialises calls with its output.
/// </summary>
internal sealed partial class TurnItemPrinter(ChatStyle style)
{
    /// <summary>A command's end shows the last lines of its output: enough for a test summary or an error.</summary>
    public const int OutputTailLines = 5;

    /// <summary>An edit's diff beyond this many lines is cut: the editor (or git) shows the whole.</summary>
    public const int DiffLines = 40;

    /// <summary>A long approval detail (a script) is cut: the agent's terminal shows the whole.</summary>
    public const int DetailLines = 10;

    private const string Reset = "\u001b[0m";
    private const string Bold = "1";
    private const string Dim = "2";
    private const string Red = "31";
    private const string Green = "32";
    private const string Yellow = "33";
    private const string Cyan = "36";

    private readonly Dictionary<string, ToolPrinted> _tools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ApprovalPrinted> _approvals = new(StringComparer.Ordinal);
    private string? _plan;

    /// <summary>The item the last lines belong to: its next lines need not name it again.</summary>
    private string? _last;

    public ChatStyle Style => style;

    /// <summary>Something else was printed (streamed text): the next item line names its item.</summary>
    public void OtherOutput() => _last = null;

    /// <summary>The lines for a <c>chat/tool</c> event: what this state adds to what was printed.</summary>
    public IReadOnlyList<string> Tool(ChatToolData tool)
    {
        var key = "tool:" + tool.ToolCallId;
        if (!_tools.TryGetValue(tool.ToolCallId, out var printed))
        {
            printed = new ToolPrinted();
            _tools[tool.ToolCallId] = printed;
        }

        var lines = new List<string>();
        var label = Clean(tool.Kind == ToolKinds.Execute ? tool.Command ?? tool.Title : tool.Title);
        var adjacent = _last == key;
        if (!printed.Started)
        {
            printed.Started = true;
            adjacent = true;
            lines.Add(Fit($"{KindMarker(tool.Kind)} {label}", Bold));
        }

        if (tool.Files is { Count: > 0 } files)
        {
            var diff = new List<(string Text, string? Sgr)>();
            foreach (var file in files)
            {
                if (printed.Diffs.Add(file.Path + "\0" + file.Diff))
                {
                    diff.AddRange(DiffLinesOf(file.Diff));
                }
            }

            AddCut(lines, diff, DiffLines, "    ");
        }

        var failed = tool.Status == ToolStatuses.Failed || tool.ExitCode is not (null or 0);
        if (!printed.Ended && tool.Status is ToolStatuses.Completed or ToolStatuses.Failed)
        {
            printed.Ended = true;

            // A command's end always says how it went; a read or an edit only when it failed.
            if (tool.Kind == ToolKinds.Execute || failed)
            {
                var how = tool.ExitCode is { } code ? $"exit {code.ToString(CultureInfo.InvariantCulture)}" : failed ? "failed" : "done";
                var mark = failed ? Paint(style.Unicode ? "✗" : "[failed]", Red) : Paint(style.Unicode ? "✓" : "[ok]", Green);
                lines.Add($"  {mark} {Fit(adjacent ? how : $"{label}: {how}", null, 3 + MarkWidth(failed))}");
                lines.AddRange(OutputTail(tool.Output, tool.OutputTruncated == true));
            }
        }

        if (lines.Count > 0)
        {
            _last = key;
        }

        return lines;
    }

    /// <summary>The plan as a checklist, when it differs from the one printed last.</summary>
    public IReadOnlyList<string> Plan(ChatPlanData plan)
    {
        var signature = plan.TurnId + "\n" + string.Join("\n", plan.Entries.Select(e => e.Status + " " + e.Text));
        if (signature == _plan || plan.Entries.Count == 0)
        {
            return [];
        }

        _plan = signature;
        _last = "plan";
        var lines = new List<string> { Fit(style.Unicode ? "☰ Plan" : "[plan]", Bold) };
        foreach (var entry in plan.Entries)
        {
            var (box, sgr) = entry.Status switch
            {
                PlanStatuses.Completed => (style.Unicode ? "✓" : "[x]", Green),
                PlanStatuses.InProgress => (style.Unicode ? "▸" : "[>]", Yellow),
                _ => (style.Unicode ? "○" : "[ ]", Dim),
            };
            lines.Add($"  {Paint(box, sgr)} {Fit(Clean(entry.Text), entry.Status == PlanStatuses.Completed ? Dim : null, 3 + box.Length)}");
        }

        return lines;
    }

    /// <summary>
    /// The question of an approval, once: its title, its detail and (to be answered here) its
    /// options numbered from 1; <paramref name="note"/> (e.g. where to answer it) goes below.
    /// </summary>
    public IReadOnlyList<string> Approval(ChatApprovalData approval, bool numbered, string? note)
    {
        var printed = Printed(approval.ApprovalId);
        if (printed.Asked)
        {
            return [];
        }

        printed.Asked = true;
        _last = "approval:" + approval.ApprovalId;
        var lines = new List<string> { $"{Paint("?", Bold + ";" + Yellow)} {Fit(Clean(approval.Title), Bold, 2)}" };
        var detail = Clean(approval.Detail).Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).Select(l => ((string Text, string? Sgr))(l, null)).ToList();
        AddCut(lines, detail, DetailLines, "  ");
        if (numbered)
        {
            for (var i = 0; i < approval.Options.Count; i++)
            {
                lines.Add(Fit($"  {i + 1}. {Clean(approval.Options[i].Label)}", null));
            }
        }

        if (note is not null)
        {
            lines.Add(Fit($"  ({note})", Dim));
        }

        return lines;
    }

    /// <summary>
    /// How an approval was resolved, once per status: allowed, rejected or cancelled, by whom unless
    /// this chat answered it (<paramref name="answeredHere"/>: how it chose, e.g. "--approve always";
    /// empty for a choice typed here; null when it did not answer), and the option chosen.
    /// </summary>
    public IReadOnlyList<string> Outcome(ChatApprovalData approval, string? answeredHere)
    {
        var printed = Printed(approval.ApprovalId);
        if (approval.Status == ApprovalStatuses.Pending || printed.Outcome == approval.Status)
        {
            return [];
        }

        printed.Outcome = approval.Status;
        var key = "approval:" + approval.ApprovalId;
        var named = _last == key ? string.Empty : $" ({Clean(approval.Title)})";
        _last = key;
        var arrow = style.Unicode ? "→" : "->";
        if (approval.Status == ApprovalStatuses.Cancelled)
        {
            return [Fit($"{arrow} {Paint("cancelled", Yellow)}{named}: the prompt went away with no answer", null)];
        }

        var who = answeredHere is not null && approval.ResolvedBy == ApprovalResolvers.Chat ? string.Empty : approval.ResolvedBy switch
        {
            ApprovalResolvers.Terminal => " in the agent's terminal",
            ApprovalResolvers.Chat => " from another client",
            ApprovalResolvers.Agent => " by the agent",
            _ => string.Empty,
        };
        var option = approval.Options.FirstOrDefault(o => o.OptionId == approval.OptionId) is { } o ? ": " + Clean(o.Label) : string.Empty;
        var how = answeredHere is { Length: > 0 } h ? $" ({h})" : string.Empty;
        var status = Paint(approval.Status, approval.Status == ApprovalStatuses.Allowed ? Green : Red);
        return [Fit($"{arrow} {status}{who}{named}{option}{how}", null)];
    }

    /// <summary>A remark of the chat's own (a hint, what it did), dimmed.</summary>
    public IReadOnlyList<string> Note(string text) => [Fit(text, Dim)];

    private ApprovalPrinted Printed(string approvalId)
    {
        if (!_approvals.TryGetValue(approvalId, out var printed))
        {
            printed = new ApprovalPrinted();
            _approvals[approvalId] = printed;
        }

        return printed;
    }

    private string KindMarker(string kind) => style.Unicode
        ? kind switch
        {
            ToolKinds.Execute => "⚙",
            ToolKinds.Edit or ToolKinds.Delete or ToolKinds.Move => "✎",
            ToolKinds.Read => "📖",
            ToolKinds.Search => "🔍",
            ToolKinds.Fetch => "🌐",
            ToolKinds.Think => "💭",
            _ => "•",
        }
        : kind switch
        {
            ToolKinds.Execute => "[run]",
            ToolKinds.Edit or ToolKinds.Delete or ToolKinds.Move or ToolKinds.Read or ToolKinds.Search or ToolKinds.Fetch or ToolKinds.Think => $"[{kind}]",
            _ => "[tool]",
        };

    private int MarkWidth(bool failed) => style.Unicode ? 1 : failed ? "[failed]".Length : "[ok]".Length;

    private static IEnumerable<(string Text, string? Sgr)> DiffLinesOf(string diff)
    {
        foreach (var line in Clean(diff).TrimEnd('\n').Split('\n'))
        {
            yield return (line, line switch
            {
                _ when line.StartsWith("+++", StringComparison.Ordinal) || line.StartsWith("---", StringComparison.Ordinal) => Bold,
                _ when line.StartsWith('+') => Green,
                _ when line.StartsWith('-') => Red,
                _ when line.StartsWith("@@", StringComparison.Ordinal) => Cyan,
                _ => null,
            });
        }
    }

    /// <summary>At most <paramref name="max"/> lines, then a note of how many more there were.</summary>
    private void AddCut(List<string> lines, List<(string Text, string? Sgr)> add, int max, string indent)
    {
        foreach (var (text, sgr) in add.Take(max))
        {
            lines.Add(indent + Fit(text, sgr, indent.Length));
        }

        if (add.Count > max)
        {
            lines.Add(indent + Fit($"({Ellipsis} {(add.Count - max).ToString(CultureInfo.InvariantCulture)} more lines)", Dim, indent.Length));
        }
    }

    private IEnumerable<string> OutputTail(string? output, bool truncated)
    {
        if (output is null)
        {
            yield break;
        }

        // Blank lines say nothing in five: only lines with text count.
        var lines = Clean(output).Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();

        if (lines.Count > OutputTailLines || (truncated && lines.Count > 0))
        {
            yield return "    " + Paint(Ellipsis, Dim);
        }

        foreach (var line in lines.Skip(Math.Max(0, lines.Count - OutputTailLines)))
        {
            yield return "    " + Fit(line, Dim, 4);
        }
    }

    private string Ellipsis => style.Unicode ? "…" : "...";

    /// <summary>Cut to the line width (less <paramref name="used"/> columns before it), then painted.</summary>
    private string Fit(string text, string? sgr, int used = 0)
    {
        var room = Math.Max(10, style.Width - used);
        if (text.Length > room)
        {
            var cut = room - Ellipsis.Length;
            if (char.IsHighSurrogate(text[cut - 1]))
            {
                cut--; // not half an emoji
            }

            text = string.Concat(text.AsSpan(0, cut), Ellipsis);
        }

        return Paint(text, sgr);
    }

    private string Paint(string text, string? sgr) => style.Color && sgr is not null && text.Length > 0 ? $"\u001b[{sgr}m{text}{Reset}" : text;

    /// <summary>
    /// Problem: titles, output and diffs come from the agent and its commands, with colour codes,
    /// carriage returns (progress bars) and other control characters that would move the cursor or
    /// break a pipe's plain text. Solution: drop escape sequences and controls; keep for each line
    /// the text after its last carriage return (what a progress bar ends with); tabs become spaces.
    /// </summary>
    internal static string Clean(string text)
    {
        text = EscapeSequence().Replace(text, string.Empty);
        var sb = new StringBuilder(text.Length);
        var lineStart = 0;
        var returned = false;
        foreach (var c in text)
        {
            switch (c)
            {
                case '\n':
                    sb.Append('\n');
                    lineStart = sb.Length;
                    returned = false;
                    break;
                case '\r':
                    returned = true;
                    break;
                case < ' ' and not '\t' or '\u007f' or (>= '\u0080' and <= '\u009f'):
                    break;
                default:
                    if (returned)
                    {
                        // Text after a carriage return overwrites the line (a progress bar's next state).
                        sb.Length = lineStart;
                        returned = false;
                    }

                    if (c == '\t')
                    {
                        sb.Append("    ");
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.ToString();
    }

    // CSI (colours, cursor moves), OSC (titles, hyperlinks) and other two-character escapes.
    [GeneratedRegex(@"\u001b(\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(\u0007|\u001b\\)?|[@-Z\\-_])")]
    private static partial Regex EscapeSequence();

    private sealed class ToolPrinted
    {
        public bool Started { get; set; }

        public bool Ended { get; set; }

        public HashSet<string> Diffs { get; } = new(StringComparer.Ordinal);
    }

    private sealed class ApprovalPrinted
    {
        public bool Asked { get; set; }

        public string? Outcome { get; set; }
    }
}
