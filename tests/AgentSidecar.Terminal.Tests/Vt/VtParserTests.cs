using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtParserTests
{
    [Fact]
    public void Feed_Utf8SplitAcrossCalls_DecodesCharacters()
    {
        var screen = new VtScreen(20, 2);
        FeedInChunks(screen, Utf8("é中😀x"), 1);

        Assert.Equal("é中😀x", screen.GetLine(0));
        Assert.Equal((0, 6), screen.Cursor);
    }

    [Fact]
    public void Feed_CsiSplitAcrossCalls_AppliesSequence()
    {
        var screen = new VtScreen(20, 2);
        screen.Feed("ab" + Esc);
        screen.Feed("[");
        screen.Feed("2");
        screen.Feed("D");
        screen.Feed("X");

        Assert.Equal("Xb", screen.GetLine(0));
    }

    [Fact]
    public void Feed_InvalidUtf8_IsDroppedLikeXtermJs()
    {
        var screen = new VtScreen(20, 2);
        screen.Feed([(byte)'a', 0xFF, (byte)'b', 0xC0, 0x80, (byte)'c', 0xED, 0xA0, 0x80, (byte)'d', 0xF4, 0x90, 0x80, 0x80, (byte)'e']);

        Assert.Equal("abcde", screen.GetLine(0));
        Assert.Equal((0, 5), screen.Cursor);
    }

    [Fact]
    public void Feed_TruncatedUtf8BeforeEscape_IsDroppedAndEscapeRuns()
    {
        var screen = new VtScreen(20, 2);
        screen.Feed([(byte)'a', 0xE4, 0xB8]);
        screen.Feed(Csi + "2CX");

        Assert.Equal("a  X", screen.GetLine(0));
    }

    [Fact]
    public void Feed_TruncatedUtf8BeforeNewLead_DecodesTheNewCharacter()
    {
        var screen = new VtScreen(20, 2);
        screen.Feed([0xE4, 0xB8, 0xE4, 0xB8, 0xAD]);

        Assert.Equal("中", screen.GetLine(0));
    }

    [Theory]
    [InlineData("a\u001b[12;34~b")]
    [InlineData("a\u001b[?999zb")]
    [InlineData("a\u001b[1 $zb")]
    [InlineData("a\u001bYb")]
    [InlineData("a\u001b(Zb")]
    [InlineData("a\u001b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;23;24;25;26;27;28;29;30;31;32;33;34;35;36;37;38;39;40yb")]
    [InlineData("a\u001b[1!!!zb")]
    [InlineData("a\u001b[1?2zb")]
    public void Feed_UnknownSequence_IsSkippedWithoutOutput(string input)
    {
        var screen = Screen(80, 2, input);

        Assert.Equal("ab", screen.GetLine(0));
    }

    [Fact]
    public void Feed_CancelInsideCsi_AbortsSequence()
    {
        var screen = Screen(20, 2, "a" + Csi + "3\u0018Bb");

        Assert.Equal("aBb", screen.GetLine(0));
    }

    [Fact]
    public void Feed_ControlInsideCsi_IsExecuted()
    {
        var screen = Screen(20, 2, "abc" + Csi + "1\rCX");

        Assert.Equal("aXc", screen.GetLine(0));
    }

    [Fact]
    public void Feed_PrivateMarkerSequences_AreNotTakenForStandardOnes()
    {
        var screen = Screen(20, 4, Csi + "31m" + Csi + "1;5H" + Csi + "s" + Csi + "2;2H");
        screen.Feed(Csi + ">4;2m" + Csi + ">1u" + Csi + "<u" + Csi + "=1;1u" + Csi + "?u");

        Assert.Equal((1, 1), screen.Cursor);
        Assert.Equal(VtColor.FromIndex(1), screen.CurrentStyle.Foreground);

        screen.Feed(Csi + "u");
        Assert.Equal((0, 4), screen.Cursor);
    }

    [Fact]
    public void Feed_DeleteCharacter_IsIgnored()
    {
        var screen = Screen(20, 2, "a\u007fb");

        Assert.Equal("ab", screen.GetLine(0));
    }

    [Fact]
    public void Feed_HugeParameter_IsClamped()
    {
        var screen = Screen(20, 5, Csi + "99999999999999C" + Csi + "99999999999B");

        Assert.Equal((4, 19), screen.Cursor);
    }

    [Fact]
    public void Feed_C1ControlAsUtf8_IsIgnored()
    {
        var screen = Screen(20, 2, "a\u0085\u009bb");

        Assert.Equal("ab", screen.GetLine(0));
    }

    [Fact]
    public void Feed_NulAndOtherControls_DoNothing()
    {
        var screen = Screen(20, 2, "a\0\u0001\u0002\u0003\u0004\u0005\u0006\u0010\u001cb");

        Assert.Equal("ab", screen.GetLine(0));
        Assert.Equal((0, 2), screen.Cursor);
    }

    [Fact]
    public void Feed_EscapeThenControl_ExecutesControlAndKeepsSequence()
    {
        var screen = Screen(20, 2, "abc" + Esc + "\r[2CX");

        Assert.Equal("abX", screen.GetLine(0));
    }

    [Fact]
    public void Version_VisibleChange_Increments()
    {
        var screen = new VtScreen(10, 2);
        long before = screen.Version;

        screen.Feed("x");

        Assert.True(screen.Version > before);
    }

    [Fact]
    public void Version_EmptyFeedOrBell_Unchanged()
    {
        var screen = new VtScreen(10, 2);
        long before = screen.Version;

        screen.Feed(ReadOnlySpan<byte>.Empty);
        screen.Feed("\a\0");

        Assert.Equal(before, screen.Version);
    }

    [Fact]
    public void Feed_String_EncodesAsUtf8()
    {
        var screen = Screen(10, 1, "日本");

        Assert.Equal("日本", screen.GetLine(0));
        Assert.Equal((0, 4), screen.Cursor);
    }
}
