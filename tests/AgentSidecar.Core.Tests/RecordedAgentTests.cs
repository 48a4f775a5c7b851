using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Providers;
using AgentSidecar.Terminal.Vt;

namespace AgentSidecar.Core.Tests;

/// <summary>
/// The built-in provider profiles against byte streams recorded from the real agents
/// (tests/testdata/recordings): the ready/done signals they declare occur in the real output, and
/// the screen fallback extracts the real answers.
/// </summary>
public sealed class RecordedAgentTests
{
    private sealed record Chunk(bool Out, byte[] Bytes);

    private static List<Chunk> Load(string agent)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "recordings", agent, "session1.jsonl");
        return File.ReadLines(path).Where(l => l.Trim().Length > 0).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return new Chunk(doc.RootElement.GetProperty("dir").GetString() == "out", Convert.FromBase64String(doc.RootElement.GetProperty("b64").GetString()!));
        }).ToList();
    }

    private static ProviderProfile Profile(string id) => BuiltInProviders.All.Single(p => p.Id == id);

    /// <summary>Feeds the output up to the first input containing <paramref name="stopAtInput"/>; returns the screen and the OSC marks seen, tagged with how many inputs preceded them.</summary>
    private static (VtScreen Screen, List<(int Inputs, string Mark)> Marks) Replay(string agent, string stopAtInput)
    {
        var screen = new VtScreen(120, 40);
        var marks = new List<(int, string)>();
        var inputs = 0;
        screen.OscReceived += (code, payload) => marks.Add((inputs, $"{code};{payload}"));
        foreach (var c in Load(agent))
        {
            if (!c.Out)
            {
                if (Encoding.UTF8.GetString(c.Bytes).Contains(stopAtInput, StringComparison.Ordinal))
                {
                    break;
                }

                inputs++;
                continue;
            }

            screen.Feed(c.Bytes);
        }

        return (screen, marks);
    }

    private static List<string> Lines(VtScreen s) => [.. s.Scrollback, .. s.GetLines()];

    [Theory]
    [InlineData("codex", "hello one", "second msg", "PONG:hello one")]
    [InlineData("codex", "second msg", "/quit", "PONG:second msg")]
    [InlineData("auggie", "hello one", "second msg", "PONG:hello one")]
    [InlineData("auggie", "second msg", "/quit", "PONG:second msg")]
    [InlineData("claude", "hello one", "second message", "PONG: hello one")]
    [InlineData("claude", "second message", "/clear", "PONG: second message")]
    public void ScreenAnswer_OnARealAgentsScreen_IsTheAnswer(string agent, string asked, string stopAt, string expected)
    {
        var (screen, _) = Replay(agent, stopAt);
        Assert.Equal(expected, new ScreenAnswer(Profile(agent)).Extract(Lines(screen), asked));
    }

    [Theory]
    [InlineData("codex")]
    [InlineData("auggie")]
    public void ReadyAndDoneMarks_OfTheProfile_OccurInTheRealOutput(string agent)
    {
        var profile = Profile(agent);
        var (_, marks) = Replay(agent, "/quit");
        var ready = new Regex(profile.Ready!.Osc!);
        var done = new Regex(profile.Done!.Osc!);

        // Ready before anything was typed; a done mark after each of the two messages (inputs: text, Enter).
        Assert.Contains(marks, m => m.Inputs == 0 && ready.IsMatch(m.Mark));
        Assert.Contains(marks, m => m.Inputs == 2 && done.IsMatch(m.Mark));
        Assert.Contains(marks, m => m.Inputs == 4 && done.IsMatch(m.Mark));
        if (profile.Busy?.Osc is { } busy)
        {
            Assert.Contains(marks, m => m.Inputs == 2 && new Regex(busy).IsMatch(m.Mark));
        }
    }

    [Fact]
    public void Claude_ReadyPromptAndBusyFooter_OfTheProfile_MatchTheRealScreen()
    {
        var profile = Profile("claude");
        var (ready, _) = Replay("claude", "hello one");
        Assert.Matches(new Regex(profile.Ready!.Screen!, RegexOptions.Multiline), string.Join('\n', ready.GetLines()));

        // While the SLOW answer streams, the footer says how to interrupt.
        var screen = new VtScreen(120, 40);
        var sawBusy = false;
        var inputs = 0;
        foreach (var c in Load("claude"))
        {
            if (!c.Out)
            {
                inputs++;
                continue;
            }

            screen.Feed(c.Bytes);
            sawBusy |= inputs >= 7 && new Regex(profile.Busy!.Screen!, RegexOptions.Multiline).IsMatch(string.Join('\n', screen.GetLines()));
        }

        Assert.True(sawBusy);
    }
}
