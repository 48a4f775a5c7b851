using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtOscTests
{
    private static (VtScreen Screen, List<(int Code, string Payload)> Events) Capture(params string[] chunks)
    {
        var screen = new VtScreen(40, 2);
        var events = new List<(int, string)>();
        screen.OscReceived += (code, payload) => events.Add((code, payload));
        foreach (string chunk in chunks)
        {
            screen.Feed(chunk);
        }

        return (screen, events);
    }

    [Fact]
    public void Osc0_TerminatedByBel_SetsTitleAndRaisesEvent()
    {
        var (screen, events) = Capture("a" + Esc + "]0;✳ Claude Code\u0007b");

        Assert.Equal("✳ Claude Code", screen.Title);
        Assert.Equal([(0, "✳ Claude Code")], events);
        Assert.Equal("ab", screen.GetLine(0));
    }

    [Fact]
    public void Osc2_TerminatedBySt_SetsTitle()
    {
        var (screen, _) = Capture(Esc + "]2;title here" + Esc + "\\");

        Assert.Equal("title here", screen.Title);
    }

    [Fact]
    public void Osc7501_CodexState_IsRaisedWithPayload()
    {
        var (_, events) = Capture(Esc + "]7501;state=working" + Esc + "\\", Esc + "]7501;state=done" + Esc + "\\");

        Assert.Equal([(7501, "state=working"), (7501, "state=done")], events);
    }

    [Fact]
    public void Osc7777_AuggieIdle_IsRaisedWithPayload()
    {
        var (_, events) = Capture(Esc + "]7777;idle\u0007");

        Assert.Equal([(7777, "idle")], events);
    }

    [Fact]
    public void Osc8_Hyperlink_IsRaisedAndTextStaysPlain()
    {
        var (screen, events) = Capture(Esc + "]8;;http://example.invalid/x" + Esc + "\\link" + Esc + "]8;;" + Esc + "\\");

        Assert.Equal([(8, ";http://example.invalid/x"), (8, ";")], events);
        Assert.Equal("link", screen.GetLine(0));
    }

    [Fact]
    public void Osc133_ShellIntegration_IsRaised()
    {
        var (_, events) = Capture(Esc + "]133;A\u0007$ " + Esc + "]133;B\u0007");

        Assert.Equal([(133, "A"), (133, "B")], events);
    }

    [Fact]
    public void Osc_SplitAcrossFeeds_IsRaisedOnceWithUtf8Payload()
    {
        byte[] bytes = Utf8(Esc + "]0;日本語 title\u0007");
        var screen = new VtScreen(20, 2);
        var events = new List<(int, string)>();
        screen.OscReceived += (code, payload) => events.Add((code, payload));

        FeedInChunks(screen, bytes, 1);

        Assert.Equal([(0, "日本語 title")], events);
    }

    [Theory]
    [InlineData("\u001b]abc;x\u0007", -1, "x")]
    [InlineData("\u001b]104\u0007", 104, "")]
    [InlineData("\u001b]\u0007", -1, "")]
    [InlineData("\u001b]1;icon\u0007", 1, "icon")]
    public void Osc_OddForms_AreParsed(string input, int code, string payload)
    {
        var (screen, events) = Capture(input);

        Assert.Equal([(code, payload)], events);
        Assert.Equal(string.Empty, screen.Title);
    }

    [Fact]
    public void Osc_CancelledByCan_IsDropped()
    {
        var (screen, events) = Capture(Esc + "]0;nope\u0018x");

        Assert.Empty(events);
        Assert.Equal(string.Empty, screen.Title);
        Assert.Equal("x", screen.GetLine(0));
    }

    [Fact]
    public void Osc_TooLong_IsDroppedAndTextAfterPrints()
    {
        var (screen, events) = Capture(Esc + "]52;c;" + new string('A', 70_000) + "\u0007ok");

        Assert.Empty(events);
        Assert.Equal("ok", screen.GetLine(0));
    }

    [Theory]
    [InlineData("a\u001bP1$r0m\u001b\\b")]
    [InlineData("a\u001bP+q544e\u001b\\b")]
    [InlineData("a\u001b_Gf=100;AAAA\u001b\\b")]
    [InlineData("a\u001b^private\u001b\\b")]
    [InlineData("a\u001bXstring\u001b\\b")]
    [InlineData("a\u001bPq#0;2;0;0;0#1~~@@\u0007\u001b\\b")]
    public void StringSequences_DcsApcPmSos_AreSwallowed(string input)
    {
        var (screen, events) = Capture(input);

        Assert.Equal("ab", screen.GetLine(0));
        Assert.Empty(events);
    }

    [Fact]
    public void Bell_OutsideOsc_RaisesBellEvent()
    {
        var screen = new VtScreen(10, 1);
        int bells = 0;
        screen.Bell += () => bells++;

        screen.Feed("a\u0007" + Esc + "]0;t\u0007");

        Assert.Equal(1, bells);
    }
}
