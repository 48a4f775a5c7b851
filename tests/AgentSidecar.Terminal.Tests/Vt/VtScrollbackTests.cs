using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtScrollbackTests
{
    private static string Numbered(int count) => string.Join("\r\n", Enumerable.Range(1, count).Select(i => $"line {i}"));

    [Fact]
    public void Scrollback_LinesScrolledOffTop_AreKeptOldestFirst()
    {
        var screen = Screen(10, 3, Numbered(5));

        Assert.Equal(["line 1", "line 2"], screen.Scrollback);
        Assert.Equal(["line 3", "line 4", "line 5"], screen.GetLines());
    }

    [Fact]
    public void Scrollback_OverCapacity_DropsOldestAndReusesLines()
    {
        var screen = Screen(10, 2, Numbered(50), scrollback: 3);

        Assert.Equal(["line 46", "line 47", "line 48"], screen.Scrollback);
        Assert.Equal(["line 49", "line 50"], screen.GetLines());
    }

    [Fact]
    public void Scrollback_ReadThenRecycled_ShowsNewText()
    {
        var screen = Screen(10, 2, Numbered(4), scrollback: 2);
        Assert.Equal(["line 1", "line 2"], screen.Scrollback);

        screen.Feed("\r\nx 1\r\nx 2\r\nx 3");

        Assert.Equal(["line 4", "x 1"], screen.Scrollback);
        Assert.Equal(["x 2", "x 3"], screen.GetLines());
    }

    [Fact]
    public void Scrollback_ZeroCapacity_KeepsNothing()
    {
        var screen = Screen(10, 2, Numbered(5), scrollback: 0);

        Assert.Empty(screen.Scrollback);
        Assert.Equal(["line 4", "line 5"], screen.GetLines());
    }

    [Fact]
    public void Scrollback_PartialScrollRegion_KeepsNothing()
    {
        var screen = Screen(10, 3, Csi + "1;2r" + Numbered(5));

        Assert.Empty(screen.Scrollback);
    }

    [Fact]
    public void Scrollback_Lines_HaveTrailingSpacesTrimmed()
    {
        var screen = Screen(10, 1, "ab   \r\nc");

        Assert.Equal(["ab"], screen.Scrollback);
    }

    [Fact]
    public void Scrollback_WrappedLongLine_KeepsBothParts()
    {
        var screen = Screen(5, 2, "abcdefghij\r\nx");

        Assert.Equal(["abcde"], screen.Scrollback);
        Assert.Equal(["fghij", "x"], screen.GetLines());
    }
}
