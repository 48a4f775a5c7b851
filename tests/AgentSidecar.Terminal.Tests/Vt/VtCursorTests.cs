using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtCursorTests
{
    [Theory]
    [InlineData("\u001b[3;5H\u001b[2A", 0, 4)]
    [InlineData("\u001b[3;5H\u001b[9A", 0, 4)]
    [InlineData("\u001b[3;5H\u001bA", 2, 4)]
    [InlineData("\u001b[2B", 2, 0)]
    [InlineData("\u001b[99B", 4, 0)]
    [InlineData("\u001b[3C", 0, 3)]
    [InlineData("\u001b[C", 0, 1)]
    [InlineData("\u001b[99C", 0, 9)]
    [InlineData("\u001b[1;8H\u001b[3D", 0, 4)]
    [InlineData("\u001b[1;8H\u001b[99D", 0, 0)]
    [InlineData("\u001b[1;5H\u001b[2E", 2, 0)]
    [InlineData("\u001b[4;5H\u001b[2F", 1, 0)]
    [InlineData("\u001b[7G", 0, 6)]
    [InlineData("\u001b[3`", 0, 2)]
    [InlineData("\u001b[2a", 0, 2)]
    [InlineData("\u001b[1;4H\u001b[3d", 2, 3)]
    [InlineData("\u001b[2e", 2, 0)]
    [InlineData("\u001b[3;3H\u001b[H", 0, 0)]
    [InlineData("\u001b[2;4H", 1, 3)]
    [InlineData("\u001b[2;4f", 1, 3)]
    [InlineData("\u001b[;4H", 0, 3)]
    [InlineData("\u001b[0;0H", 0, 0)]
    [InlineData("\u001b[99;99H", 4, 9)]
    public void CursorMovement_Sequence_EndsAtPosition(string input, int row, int col)
    {
        var screen = Screen(10, 5, input);

        Assert.Equal((row, col), screen.Cursor);
    }

    [Fact]
    public void CursorUp_InsideScrollRegion_StopsAtTopMargin()
    {
        var screen = Screen(10, 6, Csi + "2;4r" + Csi + "3;1H" + Csi + "5A");

        Assert.Equal((1, 0), screen.Cursor);
    }

    [Fact]
    public void CursorDown_InsideScrollRegion_StopsAtBottomMargin()
    {
        var screen = Screen(10, 6, Csi + "2;4r" + Csi + "3;1H" + Csi + "5B");

        Assert.Equal((3, 0), screen.Cursor);
    }

    [Fact]
    public void CursorDown_BelowScrollRegion_StopsAtLastRow()
    {
        var screen = Screen(10, 6, Csi + "2;3r" + Csi + "5;1H" + Csi + "9B");

        Assert.Equal((5, 0), screen.Cursor);
    }

    [Fact]
    public void Backspace_AtColumnZero_Stays()
    {
        var screen = Screen(10, 2, "\b\b");

        Assert.Equal((0, 0), screen.Cursor);
    }

    [Fact]
    public void Backspace_FromPendingWrap_LandsOnSecondToLastColumn()
    {
        var screen = Screen(5, 2, "abcde\bX");

        Assert.Equal("abcXe", screen.GetLine(0));
    }

    [Fact]
    public void CursorBackward_FromPendingWrap_CountsFromLastColumn()
    {
        var screen = Screen(5, 2, "abcde" + Csi + "DX");

        Assert.Equal("abcXe", screen.GetLine(0));
        Assert.False(screen.PendingWrap);
    }

    [Fact]
    public void LineFeed_KeepsColumn()
    {
        var screen = Screen(10, 3, "ab\ncd");

        Assert.Equal(["ab", "  cd", ""], screen.GetLines());
    }

    [Fact]
    public void LineFeed_NewLineMode_AlsoReturnsCarriage()
    {
        var screen = Screen(10, 3, Csi + "20hab\ncd");

        Assert.True(screen.NewLineMode);
        Assert.Equal(["ab", "cd", ""], screen.GetLines());
    }

    [Fact]
    public void VerticalTabAndFormFeed_ActLikeLineFeed()
    {
        var screen = Screen(10, 3, "a\u000bb\u000cc");

        Assert.Equal(["a", " b", "  c"], screen.GetLines());
    }

    [Fact]
    public void Tab_DefaultStops_EveryEightColumns()
    {
        var screen = Screen(20, 1, "\tX\tY");

        Assert.Equal("        X       Y", screen.GetLine(0));
    }

    [Fact]
    public void Tab_PastLastStop_GoesToLastColumn()
    {
        var screen = Screen(20, 1, "\t\t\t\tZ");

        Assert.Equal(19, screen.GetLine(0).Length - 1);
        Assert.True(screen.PendingWrap);
    }

    [Fact]
    public void Tab_WithWrapPending_DoesNothing()
    {
        var screen = Screen(5, 2, "abcde\tX");

        Assert.Equal(["abcde", "X"], screen.GetLines());
    }

    [Fact]
    public void Tab_SetAndClearStops_ChangeTargets()
    {
        var screen = Screen(20, 3, Csi + "4G" + Esc + "H\r\tA" + Csi + "4G" + Csi + "g\r\tB\r\n" + Csi + "3g\tC");

        Assert.Equal(["   A    B", new string(' ', 19) + "C", ""], screen.GetLines());
    }

    [Fact]
    public void Tab_ForwardAndBackwardCounts_MoveAcrossStops()
    {
        var screen = Screen(40, 1, Csi + "2IX" + Csi + "2ZY");

        Assert.Equal("        Y       X", screen.GetLine(0));
    }

    [Fact]
    public void SaveRestoreCursor_Esc78_RestoresPositionStyleAndCharset()
    {
        var screen = Screen(10, 3, Csi + "2;3H" + Csi + "1;31m" + Esc + "(0" + Esc + "7" + Csi + "H" + Csi + "0m" + Esc + "(B" + Esc + "8q");

        Assert.Equal("  ─", screen.GetLine(1));
        VtStyle style = screen.GetCell(1, 2).Style;
        Assert.Equal(VtAttributes.Bold, style.Attributes);
        Assert.Equal(VtColor.FromIndex(1), style.Foreground);
    }

    [Fact]
    public void SaveRestoreCursor_CsiSAndU_RestorePosition()
    {
        var screen = Screen(10, 3, Csi + "2;3H" + Csi + "s" + Csi + "H" + Csi + "uX");

        Assert.Equal("  X", screen.GetLine(1));
    }

    [Fact]
    public void SaveRestoreCursor_Mode1048_RestoresPosition()
    {
        var screen = Screen(10, 3, Csi + "3;4H" + Csi + "?1048h" + Csi + "H" + Csi + "?1048lX");

        Assert.Equal("   X", screen.GetLine(2));
    }

    [Fact]
    public void RestoreCursor_WithoutSave_GoesHomeWithDefaultStyle()
    {
        var screen = Screen(10, 3, Csi + "3;4H" + Csi + "7m" + Esc + "8");

        Assert.Equal((0, 0), screen.Cursor);
        Assert.Equal(VtStyle.Default, screen.CurrentStyle);
    }

    [Fact]
    public void Index_EscD_MovesDownAndScrollsAtBottom()
    {
        var screen = Screen(10, 2, "a" + Esc + "D" + Esc + "Db");

        Assert.Equal(["", " b"], screen.GetLines());
        Assert.Equal(["a"], screen.Scrollback);
    }

    [Fact]
    public void NextLine_EscE_MovesToStartOfNextLine()
    {
        var screen = Screen(10, 3, "ab" + Esc + "Ecd");

        Assert.Equal(["ab", "cd", ""], screen.GetLines());
    }

    [Fact]
    public void ReverseIndex_EscMAtTop_ScrollsDown()
    {
        var screen = Screen(10, 3, "a\r\nb" + Csi + "H" + Esc + "Mc");

        Assert.Equal(["c", "a", "b"], screen.GetLines());
    }

    [Fact]
    public void ReverseIndex_EscMBelowTop_MovesUp()
    {
        var screen = Screen(10, 3, "\r\n\r\n" + Esc + "Mx");

        Assert.Equal(["", "x", ""], screen.GetLines());
    }

    [Fact]
    public void OriginMode_CursorPosition_IsRelativeToRegionAndClamped()
    {
        var screen = Screen(10, 6, Csi + "2;5r" + Csi + "?6h" + Csi + "1;1HA" + Csi + "10;1HB" + Csi + "2d");

        Assert.True(screen.OriginMode);
        Assert.Equal(["", "A", "", "", "B", ""], screen.GetLines());
        Assert.Equal((2, 1), screen.Cursor);
    }

    [Fact]
    public void SetScrollRegion_Valid_HomesCursor()
    {
        var screen = Screen(10, 6, Csi + "4;4H" + Csi + "2;5r");

        Assert.Equal((1, 4), screen.ScrollRegion);
        Assert.Equal((0, 0), screen.Cursor);
    }

    [Theory]
    [InlineData("\u001b[4;2r")]
    [InlineData("\u001b[3;3r")]
    public void SetScrollRegion_Invalid_IsIgnored(string input)
    {
        var screen = Screen(10, 6, Csi + "4;4H" + input);

        Assert.Equal((0, 5), screen.ScrollRegion);
        Assert.Equal((3, 3), screen.Cursor);
    }
}
