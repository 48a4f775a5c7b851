using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtPrintTests
{
    [Fact]
    public void Print_LastColumn_SetsPendingWrapWithoutMoving()
    {
        var screen = Screen(5, 3, "abcde");

        Assert.Equal((0, 4), screen.Cursor);
        Assert.True(screen.PendingWrap);
        Assert.Equal(string.Empty, screen.GetLine(1));
    }

    [Fact]
    public void Print_PastLastColumn_WrapsAndMarksLine()
    {
        var screen = Screen(5, 3, "abcdefg");

        Assert.Equal(["abcde", "fg", ""], screen.GetLines());
        Assert.True(screen.IsLineWrapped(0));
        Assert.False(screen.IsLineWrapped(1));
        Assert.Equal((1, 2), screen.Cursor);
    }

    [Fact]
    public void Print_WrapAtBottom_ScrollsIntoScrollback()
    {
        var screen = Screen(3, 2, "abcdefg");

        Assert.Equal(["def", "g"], screen.GetLines());
        Assert.Equal(["abc"], screen.Scrollback);
    }

    [Fact]
    public void Print_AutowrapDisabled_OverwritesLastColumn()
    {
        var screen = Screen(5, 2, Csi + "?7labcdefg");

        Assert.Equal(["abcdg", ""], screen.GetLines());
        Assert.False(screen.AutoWrap);
        Assert.Equal((0, 4), screen.Cursor);
    }

    [Fact]
    public void Print_AutowrapReenabledAfterLastColumn_WrapsNextCharacter()
    {
        var screen = Screen(5, 2, Csi + "?7labcde" + Csi + "?7hf");

        Assert.Equal(["abcde", "f"], screen.GetLines());
    }

    [Fact]
    public void Print_CarriageReturnAfterPendingWrap_StaysOnLine()
    {
        var screen = Screen(5, 2, "abcde\rX");

        Assert.Equal(["Xbcde", ""], screen.GetLines());
    }

    [Fact]
    public void Print_WideCharacter_TakesTwoColumns()
    {
        var screen = Screen(10, 1, "中a");

        Assert.Equal((0, 3), screen.Cursor);
        Assert.Equal(2, screen.GetCell(0, 0).Width);
        Assert.True(screen.GetCell(0, 1).IsWideTail);
        Assert.Equal("a", screen.GetCell(0, 2).Text);
    }

    [Fact]
    public void Print_Emoji_IsWide()
    {
        var screen = Screen(10, 1, "😀x");

        Assert.Equal("😀x", screen.GetLine(0));
        Assert.Equal((0, 3), screen.Cursor);
    }

    [Fact]
    public void Print_WideCharacterInLastColumn_WrapsFirst()
    {
        var screen = Screen(5, 2, "abcd中");

        Assert.Equal(["abcd", "中"], screen.GetLines());
        Assert.True(screen.IsLineWrapped(0));
        Assert.Equal((1, 2), screen.Cursor);
    }

    [Fact]
    public void Print_WideCharacterInLastColumnWithoutAutowrap_IsDropped()
    {
        var screen = Screen(5, 1, Csi + "?7labcd中");

        Assert.Equal("abcd", screen.GetLine(0));
    }

    [Fact]
    public void Print_CombiningMark_AttachesToPreviousCell()
    {
        var screen = Screen(10, 1, "e\u0301x");

        Assert.Equal("e\u0301x", screen.GetLine(0));
        Assert.Equal((0, 2), screen.Cursor);
        Assert.Equal("\u0301", screen.GetCell(0, 0).Combining);
    }

    [Fact]
    public void Print_CombiningMarkAtLineStart_IsDropped()
    {
        var screen = Screen(10, 1, "\u0301x");

        Assert.Equal("x", screen.GetLine(0));
    }

    [Fact]
    public void Print_OverwritingTailOfWideCharacter_BlanksLead()
    {
        var screen = Screen(10, 1, "中" + Csi + "2GX");

        Assert.Equal(" X", screen.GetLine(0));
        Assert.False(screen.GetCell(0, 0).IsWideTail);
        Assert.True(screen.GetCell(0, 0).IsBlank);
    }

    [Fact]
    public void Print_OverwritingLeadOfWideCharacter_BlanksTail()
    {
        var screen = Screen(10, 1, "中b\rX");

        Assert.Equal("X b", screen.GetLine(0));
        Assert.False(screen.GetCell(0, 1).IsWideTail);
    }

    [Fact]
    public void Print_InsertMode_ShiftsRestOfLineRight()
    {
        var screen = Screen(10, 1, "abc\r" + Csi + "4hXY" + Csi + "4lZ");

        Assert.Equal("XYZbc", screen.GetLine(0));
        Assert.False(screen.InsertMode);
    }

    [Fact]
    public void Repeat_AfterCharacter_RepeatsIt()
    {
        var screen = Screen(10, 1, "ab" + Csi + "3b");

        Assert.Equal("abbbb", screen.GetLine(0));
    }

    [Fact]
    public void Repeat_AfterInterveningSequence_DoesNothing()
    {
        var screen = Screen(10, 1, "a" + Csi + "1C" + Csi + "3b");

        Assert.Equal("a", screen.GetLine(0));
    }

    [Fact]
    public void Repeat_WideCharacter_RepeatsIt()
    {
        var screen = Screen(10, 1, "中" + Csi + "2b");

        Assert.Equal("中中中", screen.GetLine(0));
    }

    [Fact]
    public void Repeat_RightAfterRepeat_DoesNothing()
    {
        var screen = Screen(20, 1, "ab" + Csi + "2b" + Csi + "2b");

        Assert.Equal("abbb", screen.GetLine(0));
    }

    [Fact]
    public void Print_WideCharacterNotFitting_LeavesBlankInPenStyle()
    {
        var screen = Screen(5, 2, "abcd" + Csi + "4m中");

        Assert.True(screen.GetCell(0, 4).IsBlank);
        Assert.Equal(VtAttributes.Underline, screen.GetCell(0, 4).Style.Attributes);
    }

    [Fact]
    public void Repeat_WithoutPriorCharacter_DoesNothing()
    {
        var screen = Screen(10, 1, Csi + "3b");

        Assert.Equal(string.Empty, screen.GetLine(0));
        Assert.Equal((0, 0), screen.Cursor);
    }

    [Fact]
    public void Charset_DecSpecialGraphics_MapsLineDrawing()
    {
        var screen = Screen(10, 1, Esc + "(0lqxk" + Esc + "(Bq");

        Assert.Equal("┌─│┐q", screen.GetLine(0));
    }

    [Fact]
    public void Charset_ShiftOutAndIn_SwitchBetweenG1AndG0()
    {
        var screen = Screen(10, 1, Esc + ")0\u000eq\u000fq");

        Assert.Equal("─q", screen.GetLine(0));
    }

    [Fact]
    public void Charset_UnitedKingdom_MapsNumberSignToPound()
    {
        var screen = Screen(10, 1, Esc + "(A#a");

        Assert.Equal("£a", screen.GetLine(0));
    }

    [Fact]
    public void ScreenAlignment_Decaln_FillsWithE()
    {
        var screen = Screen(3, 2, "xy" + Esc + "#8");

        Assert.Equal(["EEE", "EEE"], screen.GetLines());
        Assert.Equal((0, 0), screen.Cursor);
    }

    [Theory]
    [InlineData('a', 1)]
    [InlineData(0x00E9, 1)]
    [InlineData(0x0301, 0)]
    [InlineData(0x200D, 0)]
    [InlineData(0xFE0F, 0)]
    [InlineData(0x4E2D, 2)]
    [InlineData(0xAC00, 2)]
    [InlineData(0xFF01, 2)]
    [InlineData(0xFF71, 1)]
    [InlineData(0x1F600, 2)]
    [InlineData(0x2500, 1)]
    [InlineData(0x276F, 1)]
    [InlineData(0x25CF, 1)]
    [InlineData(0x2022, 1)]
    [InlineData(0x203A, 1)]
    [InlineData(0x2705, 2)]
    [InlineData(0x20000, 2)]
    public void CharWidth_CodePoint_HasTerminalWidth(int codePoint, int width)
    {
        Assert.Equal(width, CharWidth.Of(codePoint));
    }
}
