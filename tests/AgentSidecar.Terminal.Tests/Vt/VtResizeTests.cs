using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtResizeTests
{
    [Fact]
    public void Resize_Wider_KeepsTextAndCursor()
    {
        var screen = Screen(5, 2, "abc");

        screen.Resize(10, 2);

        Assert.Equal((10, 2), (screen.Cols, screen.Rows));
        Assert.Equal(["abc", ""], screen.GetLines());
        Assert.Equal((0, 3), screen.Cursor);
        screen.Feed("defghij");
        Assert.Equal("abcdefghij", screen.GetLine(0));
    }

    [Fact]
    public void Resize_Narrower_CutsLinesAndClampsCursor()
    {
        var screen = Screen(10, 2, "abcdefgh");

        screen.Resize(4, 2);

        Assert.Equal(["abcd", ""], screen.GetLines());
        Assert.Equal((0, 3), screen.Cursor);
    }

    [Fact]
    public void Resize_CuttingWideCharacter_RemovesIt()
    {
        var screen = Screen(10, 1, "abc中");

        screen.Resize(4, 1);

        Assert.Equal("abc", screen.GetLine(0));
        Assert.False(screen.GetCell(0, 3).IsWideTail);
    }

    [Fact]
    public void Resize_ShorterWithBlankRowsBelowCursor_DropsThemFirst()
    {
        var screen = Screen(10, 5, "a\r\nb");

        screen.Resize(10, 3);

        Assert.Equal(["a", "b", ""], screen.GetLines());
        Assert.Empty(screen.Scrollback);
        Assert.Equal((1, 1), screen.Cursor);
    }

    [Fact]
    public void Resize_ShorterWithCursorAtBottom_PushesTopRowsToScrollback()
    {
        var screen = Screen(10, 4, "1\r\n2\r\n3\r\n4");

        screen.Resize(10, 2);

        Assert.Equal(["1", "2"], screen.Scrollback);
        Assert.Equal(["3", "4"], screen.GetLines());
        Assert.Equal((1, 1), screen.Cursor);
    }

    [Fact]
    public void Resize_Taller_AddsBlankRowsAtBottom()
    {
        var screen = Screen(10, 2, "1\r\n2");

        screen.Resize(10, 4);

        Assert.Equal(["1", "2", "", ""], screen.GetLines());
        Assert.Equal((1, 1), screen.Cursor);
    }

    [Fact]
    public void Resize_InAlternateScreen_ResizesBothScreens()
    {
        var screen = Screen(10, 3, "main" + Csi + "?1049halt");

        screen.Resize(6, 2);
        screen.Feed(Csi + "?1049l");

        Assert.Equal(["main", ""], screen.GetLines());
        Assert.Equal((0, 4), screen.Cursor);
    }

    [Fact]
    public void Resize_ResetsScrollRegionAndBumpsVersion()
    {
        var screen = Screen(10, 5, Csi + "2;3r");
        long before = screen.Version;

        screen.Resize(10, 6);

        Assert.Equal((0, 5), screen.ScrollRegion);
        Assert.True(screen.Version > before);
    }

    [Fact]
    public void Resize_SameSize_DoesNothing()
    {
        var screen = Screen(10, 5, "x");
        long before = screen.Version;

        screen.Resize(10, 5);

        Assert.Equal(before, screen.Version);
    }

    [Fact]
    public void Resize_InvalidSize_IsClamped()
    {
        var screen = Screen(10, 5, "x");

        screen.Resize(0, -3);

        Assert.Equal((1, 1), (screen.Cols, screen.Rows));
        screen.Feed("abc\r\n\u001b[5;5H");
        Assert.Equal((0, 0), screen.Cursor);
    }

    [Fact]
    public void Resize_Wider_ExtendsDefaultTabStops()
    {
        var screen = Screen(10, 1);

        screen.Resize(20, 1);
        screen.Feed("\t\tX");

        Assert.Equal(16, screen.GetLine(0).IndexOf('X', StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_HugeSize_IsClampedToMaximum()
    {
        var screen = new VtScreen(100_000, 5);

        Assert.Equal(VtScreen.MaxDimension, screen.Cols);
    }
}
