using System.Text.RegularExpressions;
using AgentSidecar.Core.Providers;

namespace AgentSidecar.Core.Chat;

/// <summary>
/// The screen fallback: finds the agent's answer to a message in the emulated screen. The answer
/// starts at the first line after the message's echo that matches the provider's answer pattern
/// (<c>• </c>, <c>● </c>) and runs until the agent's chrome (prompt, rules, status lines).
/// </summary>
public sealed class ScreenAnswer
{
    /// <summary>
    /// Problem: the limit is wall time, and on a saturated machine 50 ms passed while a plain pattern
    /// waited for a core; the timeout's exception then stopped the screen feed for good. Solution: a
    /// limit only a pathological (backtracking) pattern reaches, and the screen feed survives it.
    /// </summary>
    private static readonly TimeSpan RegexTimeout = Providers.ProviderPatterns.MatchTimeout;
    private readonly Regex? _answer;
    private readonly Regex[] _chrome;

    public ScreenAnswer(ProviderProfile profile)
    {
        _answer = profile.AnswerPattern is { } a ? new Regex(a, RegexOptions.None, RegexTimeout) : null;
        _chrome = profile.ChromePatterns.Select(c => new Regex(c, RegexOptions.None, RegexTimeout)).ToArray();
    }

    /// <summary>The answer text after <paramref name="userText"/> in <paramref name="lines"/>, or "" when none is drawn yet.</summary>
    public string Extract(IReadOnlyList<string> lines, string userText)
    {
        // Problem: before the message's echo is drawn, the answer above it on screen is the previous
        // turn's (after a /clear too), and it was streamed as this turn's first delta. Solution: no
        // echo, no answer yet.
        if (FindEcho(lines, userText) is not (>= 0 and var start))
        {
            return string.Empty;
        }

        var first = -1;
        for (var i = start; i < lines.Count; i++)
        {
            // Agents draw tool calls in the answer's style (Codex's "• Ran …"): chrome is never the answer's start.
            if (_answer is null ? lines[i].Trim().Length > 0 && !IsChrome(lines[i]) && !Collapse(lines[i]).Contains(Needle(userText), StringComparison.Ordinal) : _answer.IsMatch(lines[i]) && !IsChrome(lines[i]))
            {
                first = i;
                break;
            }
        }

        if (first < 0)
        {
            return string.Empty;
        }

        var result = new List<string>();
        for (var i = first; i < lines.Count; i++)
        {
            var line = lines[i];
            if (i > first && IsChrome(line))
            {
                break;
            }

            if (_answer?.Match(line) is { Success: true } m && m.Index == 0)
            {
                line = line[m.Length..];
            }
            else if (i > first && line.StartsWith("  ", StringComparison.Ordinal))
            {
                line = line[2..];
            }

            result.Add(line.TrimEnd());
        }

        while (result.Count > 0 && result[^1].Length == 0)
        {
            result.RemoveAt(result.Count - 1);
        }

        return string.Join('\n', result);
    }

    private bool IsChrome(string line) => _chrome.Any(c => c.IsMatch(line));

    /// <summary>The start of the message's first line, its whitespace runs made one space (a tab is drawn as spaces).</summary>
    private static string Needle(string userText)
    {
        var firstLine = Collapse(userText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? string.Empty);
        return firstLine.Length > 24 ? firstLine[..24] : firstLine;
    }

    private static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The line after the last echo of the user's message (-1 when it is not on screen; 0 for an empty message).</summary>
    private int FindEcho(IReadOnlyList<string> lines, string userText)
    {
        var needle = Needle(userText);
        if (needle.Length == 0)
        {
            return 0;
        }

        // Answers often quote the question: a line that starts an answer is never the echo.
        for (var i = lines.Count - 1; i >= 0; i--)
        {
            if (Collapse(lines[i]).Contains(needle, StringComparison.Ordinal) && _answer?.IsMatch(lines[i]) != true)
            {
                return i + 1;
            }
        }

        return -1;
    }
}
