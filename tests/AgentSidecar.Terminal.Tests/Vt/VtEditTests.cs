using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtEditTests
{
    private const string Filled = "abcdefghij\r\nklmnopqrst\r\nuvwxyz0123\r\nABCDEFGHIJ";

    private static VtScreen FilledScreen(string then) => Screen(10, 4, Filled + then);

    [Fact]
    public void EraseInDisplay_Mode0_ErasesFromCursorToEnd()
    {
        var screen = FilledScreen(Csi + "2;4H" + Csi + "J");

        Assert.Equal(["abcdefghij", "klm", "", ""], screen.GetLines());
        Assert.Equal((1, 3), screen.Cursor);
    }

    [Fact]
    public void EraseInDisplay_Mode1_ErasesFromStartToCursor()
    {
        var screen = FilledScreen(Csi + "2;4H" + Csi + "1J");

        Assert.Equal(["", "    opqrst", "uvwxyz0123", "ABCDEFGHIJ"], screen.GetLines());
    }

    [Fact]
    public void EraseInDisplay_Mode2_ErasesAllAndKeepsCursor()
    {
        var screen = FilledScreen(Csi + "2;4H" + Csi + "2J");

        Assert.Equal(["", "", "", ""], screen.GetLines());
        Assert.Equal((1, 3), screen.Cursor);
        Assert.Empty(screen.Scrollback);
    }

    [Fact]
    public void EraseInDisplay_Mode3_ClearsScrollbackOnly()
    {
        var screen = Screen(10, 2, "1\r\n2\r\n3\r\n4");
        Assert.Equal(["1", "2"], screen.Scrollback);

        screen.Feed(Csi + "3J");

        Assert.Empty(screen.Scrollback);
        Assert.Equal(["3", "4"], screen.GetLines());
    }

    [Theory]
    [InlineData("\u001b[K", "klm")]
    [InlineData("\u001b[0K", "klm")]
    [InlineData("\u001b[1K", "    opqrst")]
    [InlineData("\u001b[2K", "")]
    [InlineData("\u001b[?2K", "")]
    public void EraseInLine_Mode_ErasesPartOfLine(string sequence, string expected)
    {
        var screen = FilledScreen(Csi + "2;4H" + sequence);

        Assert.Equal(expected, screen.GetLine(1));
        Assert.Equal("abcdefghij", screen.GetLine(0));
        Assert.Equal((1, 3), screen.Cursor);
    }

    [Fact]
    public void EraseChars_Count_BlanksWithoutMoving()
    {
        var screen = FilledScreen(Csi + "1;3H" + Csi + "3X");

        Assert.Equal("ab   fghij", screen.GetLine(0));
        Assert.Equal((0, 2), screen.Cursor);
    }

    [Fact]
    public void EraseChars_PastEnd_StopsAtLineEnd()
    {
        var screen = FilledScreen(Csi + "1;8H" + Csi + "99X");

        Assert.Equal("abcdefg", screen.GetLine(0));
    }

    [Fact]
    public void InsertChars_Count_ShiftsRightAndDropsOverflow()
    {
        var screen = FilledScreen(Csi + "1;3H" + Csi + "2@");

        Assert.Equal("ab  cdefgh", screen.GetLine(0));
        Assert.Equal((0, 2), screen.Cursor);
    }

    [Fact]
    public void DeleteChars_Count_ShiftsLeftAndBlanksEnd()
    {
        var screen = FilledScreen(Csi + "1;3H" + Csi + "3P");

        Assert.Equal("abfghij", screen.GetLine(0));
    }

    [Fact]
    public void DeleteChars_SplittingWideCharacter_RemovesItsOtherHalf()
    {
        var screen = Screen(10, 1, "a中b" + Csi + "2G" + Csi + "P");

        Assert.Equal("a b", screen.GetLine(0));
        Assert.False(screen.GetCell(0, 1).IsWideTail);
    }

    [Fact]
    public void InsertLines_Count_PushesLinesDownInsideRegion()
    {
        var screen = FilledScreen(Csi + "2;5H" + Csi + "2L");

        Assert.Equal(["abcdefghij", "", "", "klmnopqrst"], screen.GetLines());
        Assert.Equal((1, 0), screen.Cursor);
    }

    [Fact]
    public void DeleteLines_Count_PullsLinesUpAndDoesNotTouchScrollback()
    {
        var screen = FilledScreen(Csi + "1;5H" + Csi + "2M");

        Assert.Equal(["uvwxyz0123", "ABCDEFGHIJ", "", ""], screen.GetLines());
        Assert.Equal((0, 0), screen.Cursor);
        Assert.Empty(screen.Scrollback);
    }

    [Fact]
    public void InsertLines_OutsideRegion_IsIgnored()
    {
        var screen = FilledScreen(Csi + "2;3r" + Csi + "4;1H" + Csi + "L");

        Assert.Equal(["abcdefghij", "klmnopqrst", "uvwxyz0123", "ABCDEFGHIJ"], screen.GetLines());
    }

    [Fact]
    public void DeleteLines_InsideRegion_OnlyAffectsRegion()
    {
        var screen = FilledScreen(Csi + "1;3r" + Csi + "2;1H" + Csi + "M");

        Assert.Equal(["abcdefghij", "uvwxyz0123", "", "ABCDEFGHIJ"], screen.GetLines());
    }

    [Fact]
    public void ScrollUp_Su_MovesRegionUp()
    {
        var screen = FilledScreen(Csi + "2;4r" + Csi + "S");

        Assert.Equal(["abcdefghij", "uvwxyz0123", "ABCDEFGHIJ", ""], screen.GetLines());
        Assert.Empty(screen.Scrollback);
    }

    [Fact]
    public void ScrollUp_SuFullScreen_MovesLinesToScrollback()
    {
        var screen = FilledScreen(Csi + "2S");

        Assert.Equal(["uvwxyz0123", "ABCDEFGHIJ", "", ""], screen.GetLines());
        Assert.Equal(["abcdefghij", "klmnopqrst"], screen.Scrollback);
    }

    [Fact]
    public void ScrollDown_Sd_MovesRegionDown()
    {
        var screen = FilledScreen(Csi + "2T");

        Assert.Equal(["", "", "abcdefghij", "klmnopqrst"], screen.GetLines());
    }

    [Fact]
    public void ScrollDown_WithBackgroundColor_AddsPlainBlankLines()
    {
        var screen = FilledScreen(Csi + "44m" + Csi + "T");

        Assert.True(screen.GetCell(0, 0).Style.IsDefault);
    }

    [Fact]
    public void ScrollUp_WithBackgroundColor_AddsLinesWithBackground()
    {
        var screen = FilledScreen(Csi + "44m" + Csi + "S");

        Assert.Equal(VtColor.FromIndex(4), screen.GetCell(3, 0).Style.Background);
    }

    [Fact]
    public void ScrollDown_WithMouseTrackingParameters_IsIgnored()
    {
        var screen = FilledScreen(Csi + "1;2;3;4;5T");

        Assert.Equal("abcdefghij", screen.GetLine(0));
    }

    [Fact]
    public void LineFeed_AtRegionBottom_ScrollsOnlyRegion()
    {
        var screen = FilledScreen(Csi + "1;2r" + Csi + "2;1H\nX");

        Assert.Equal(["klmnopqrst", "X", "uvwxyz0123", "ABCDEFGHIJ"], screen.GetLines());
        Assert.Empty(screen.Scrollback);
    }

    [Fact]
    public void Erase_WithBackgroundColor_KeepsOnlyBackground()
    {
        var screen = Screen(5, 2, Csi + "1;4;41m" + Csi + "2J");

        VtStyle style = screen.GetCell(1, 3).Style;
        Assert.Equal(VtColor.FromIndex(1), style.Background);
        Assert.Equal(VtAttributes.None, style.Attributes);
        Assert.True(screen.GetCell(1, 3).IsBlank);
    }

    [Fact]
    public void EraseInLine_AfterPendingWrap_ErasesNothingAndKeepsWrapPending()
    {
        var screen = Screen(5, 2, "abcde" + Csi + "KX");

        Assert.Equal(["abcde", "X"], screen.GetLines());
    }

    [Fact]
    public void EraseInLine_Mode1AfterPendingWrap_ErasesWholeLine()
    {
        var screen = Screen(5, 2, "abcde" + Csi + "1K");

        Assert.Equal(["", ""], screen.GetLines());
        Assert.True(screen.PendingWrap);
    }

    [Fact]
    public void EraseChars_AfterPendingWrap_ErasesLastColumn()
    {
        var screen = Screen(5, 2, "abcde" + Csi + "X");

        Assert.Equal("abcd", screen.GetLine(0));
        Assert.False(screen.PendingWrap);
    }
}
