using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Tests;

internal static class Waits
{
    /// <summary>Polls session/get until the session has <paramref name="status"/> (30 s at most).</summary>
    public static async Task<JsonElement> StatusAsync(RpcClient c, string sessionId, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var s = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId });
            if (s.GetProperty("status").GetString() == status || DateTime.UtcNow > deadline)
            {
                Assert.Equal(status, s.GetProperty("status").GetString());
                return s;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Polls worker/screen until its visible lines satisfy <paramref name="condition"/> (30 s at most);
    /// a timeout fails the test naming <paramref name="what"/> was awaited and showing the last screen.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ScreenAsync(RpcClient c, string workerId, string what, Func<IReadOnlyList<string>, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var screen = await c.RequestAsync("worker/screen", new JsonObject { ["workerId"] = workerId });
            var lines = screen.GetProperty("lines").EnumerateArray().Select(l => l.GetString() ?? "").ToList();
            if (condition(lines))
            {
                return lines;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; the screen:\n{string.Join('\n', lines.Where(l => l.Length > 0))}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Waits until the agent's input line shows exactly <paramref name="text"/> after its prompt (Codex and
    /// Auggie draw "› text"). Problem: Enter written right behind the text can reach the TUI in the same
    /// burst, which it takes as a paste (a newline, not a submit). Solution: send Enter only once the
    /// text is drawn as typed.
    /// </summary>
    public static Task<IReadOnlyList<string>> TypedAsync(RpcClient c, string workerId, string text) =>
        ScreenAsync(c, workerId, $"the input line to show \"› {text}\"", lines => lines.Any(l => l.Trim() == "› " + text));

    /// <summary>
    /// Waits until the agent's input line (the last screen line that starts with its prompt mark:
    /// Codex and Auggie <c>›</c>, Claude Code <c>❯</c>) reads exactly <paramref name="text"/>. Agents draw
    /// the space after the mark as a no-break space.
    /// </summary>
    public static Task<IReadOnlyList<string>> ComposerAsync(RpcClient c, string workerId, string prompt, string text) =>
        ScreenAsync(c, workerId, $"the input line to read \"{prompt} {text}\"", lines =>
            lines.LastOrDefault(l => l.TrimStart().StartsWith(prompt, StringComparison.Ordinal))?.Replace('\u00a0', ' ').Trim() == $"{prompt} {text}");
}
