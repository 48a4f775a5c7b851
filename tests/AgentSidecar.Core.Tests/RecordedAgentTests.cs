using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Providers;
using AgentSidecar.Terminal.Vt;

namespace AgentSidecar.Core.Tests;

/// <summary>
/// The built-in provider profiles against byte streams recorded from the real agents: the
/// ready/done signals they declare occur in the real output, and the screen fallback extracts the
/// real answers. A case is a folder under tests/testdata/recordings with one recording (*.jsonl,
/// PTY chunks <c>{t, dir, b64}</c>) and expected.json (see the README there), found by enumerating.
/// </summary>
public sealed class RecordedAgentTests
{
    private const string ExpectedFile = "expected.json";

    private sealed record Chunk(bool Out, byte[] Bytes);

    private static string Root => GoldenCases.Directory("recordings");

    /// <summary>Every case folder.</summary>
    public static TheoryData<string> Cases() => CasesWith(null);

    /// <summary>The case folders whose expected.json has <paramref name="section"/> (and those without one, so that they fail).</summary>
    private static TheoryData<string> CasesWith(string? section)
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Root).Order(StringComparer.Ordinal))
        {
            var expected = Path.Combine(dir, ExpectedFile);
            if (section is null || !File.Exists(expected) || GoldenCases.ReadJson(expected).TryGetProperty(section, out _))
            {
                data.Add(Path.GetFileName(dir));
            }
        }

        return data;
    }

    public static TheoryData<string> CasesWithOsc() => CasesWith("osc");

    public static TheoryData<string> CasesWithScreen() => CasesWith("screen");

    private static JsonElement Expected(string caseName) => GoldenCases.ReadJson(Path.Combine(Root, caseName, ExpectedFile));

    private static List<Chunk> Load(string caseName)
    {
        var recordings = Directory.GetFiles(Path.Combine(Root, caseName), "*.jsonl");
        Assert.True(recordings.Length == 1, $"the recording case {caseName} must hold exactly one *.jsonl recording, it has {recordings.Length}");
        return File.ReadLines(recordings[0]).Where(l => l.Trim().Length > 0).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return new Chunk(doc.RootElement.GetProperty("dir").GetString() == "out", Convert.FromBase64String(doc.RootElement.GetProperty("b64").GetString()!));
        }).ToList();
    }

    private static ProviderProfile Profile(JsonElement expected)
    {
        var id = expected.GetProperty("provider").GetString();
        return BuiltInProviders.All.SingleOrDefault(p => p.Id == id) ?? throw new InvalidDataException($"no built-in provider '{id}'");
    }

    /// <summary>Feeds the output up to the first input containing <paramref name="stopAtInput"/>; returns the screen and the OSC marks seen, tagged with how many inputs preceded them.</summary>
    private static (VtScreen Screen, List<(int Inputs, string Mark)> Marks) Replay(string caseName, string stopAtInput)
    {
        var screen = new VtScreen(120, 40);
        var marks = new List<(int, string)>();
        var inputs = 0;
        screen.OscReceived += (code, payload) => marks.Add((inputs, $"{code};{payload}"));
        foreach (var c in Load(caseName))
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

    private static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(i => i.GetInt32())];

    [Theory]
    [MemberData(nameof(Cases))]
    public void ScreenAnswer_OnARealAgentsScreen_IsTheAnswer(string caseName)
    {
        var expected = Expected(caseName);
        var profile = Profile(expected);
        var answers = expected.GetProperty("answers").EnumerateArray().ToList();
        Assert.NotEmpty(answers);

        // Compared as "asked → answer" lines, so a failure names the message whose answer is wrong.
        var want = answers.Select(a => $"{a.GetProperty("asked").GetString()} → {a.GetProperty("answer").GetString()}").ToList();
        var got = answers.Select(a =>
        {
            var asked = a.GetProperty("asked").GetString()!;
            var (screen, _) = Replay(caseName, a.GetProperty("stopAt").GetString()!);
            return $"{asked} → {new ScreenAnswer(profile).Extract(Lines(screen), asked)}";
        }).ToList();
        Assert.Equal(want, got);
    }

    [Theory]
    [MemberData(nameof(CasesWithOsc))]
    public void ReadyAndDoneMarks_OfTheProfile_OccurInTheRealOutput(string caseName)
    {
        var expected = Expected(caseName);
        var profile = Profile(expected);
        var osc = expected.GetProperty("osc");
        var (_, marks) = Replay(caseName, osc.GetProperty("stopAt").GetString()!);
        var ready = new Regex(profile.Ready!.Osc!);
        var done = new Regex(profile.Done!.Osc!);

        // E.g. ready before anything was typed; a done mark after each of two messages (inputs: text, Enter).
        Assert.All(Ints(osc.GetProperty("readyAtInputs")), n => Assert.Contains(marks, m => m.Inputs == n && ready.IsMatch(m.Mark)));
        Assert.All(Ints(osc.GetProperty("doneAtInputs")), n => Assert.Contains(marks, m => m.Inputs == n && done.IsMatch(m.Mark)));
        var busyAt = osc.TryGetProperty("busyAtInputs", out var b) ? Ints(b) : null;
        Assert.True((profile.Busy?.Osc is null) == (busyAt is null), $"{caseName}: the profile {(profile.Busy?.Osc is null ? "declares no" : "declares a")} busy OSC mark, so expected.json {(busyAt is null ? "needs" : "must not have")} osc.busyAtInputs");
        if (profile.Busy?.Osc is { } busy)
        {
            Assert.All(busyAt!, n => Assert.Contains(marks, m => m.Inputs == n && new Regex(busy).IsMatch(m.Mark)));
        }
    }

    [Theory]
    [MemberData(nameof(CasesWithScreen))]
    public void ReadyPromptAndBusyFooter_OfTheProfile_MatchTheRealScreen(string caseName)
    {
        var expected = Expected(caseName);
        var profile = Profile(expected);
        var spec = expected.GetProperty("screen");
        var (ready, _) = Replay(caseName, spec.GetProperty("readyBefore").GetString()!);
        Assert.Matches(new Regex(profile.Ready!.Screen!, RegexOptions.Multiline), string.Join('\n', ready.GetLines()));

        // While a slow answer streams (from the given input on), the footer says how to interrupt.
        var busyFrom = spec.GetProperty("busyFromInputs").GetInt32();
        var screen = new VtScreen(120, 40);
        var sawBusy = false;
        var inputs = 0;
        foreach (var c in Load(caseName))
        {
            if (!c.Out)
            {
                inputs++;
                continue;
            }

            screen.Feed(c.Bytes);
            sawBusy |= inputs >= busyFrom && new Regex(profile.Busy!.Screen!, RegexOptions.Multiline).IsMatch(string.Join('\n', screen.GetLines()));
        }

        Assert.True(sawBusy, $"{caseName}: the busy footer /{profile.Busy!.Screen}/ never showed after input {busyFrom}");
    }
}
