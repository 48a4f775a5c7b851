using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtSgrTests
{
    private static VtStyle StyleAfter(string sgr) => Screen(10, 1, sgr + "X").GetCell(0, 0).Style;

    [Fact]
    public void Sgr_AllAttributes_AreSet()
    {
        VtStyle style = StyleAfter(Csi + "1;2;3;4;5;7;8;9;53m");

        Assert.Equal(
            VtAttributes.Bold | VtAttributes.Dim | VtAttributes.Italic | VtAttributes.Underline | VtAttributes.Blink
            | VtAttributes.Inverse | VtAttributes.Hidden | VtAttributes.Strikethrough | VtAttributes.Overline,
            style.Attributes);
    }

    [Fact]
    public void Sgr_AttributeResets_ClearEachAttribute()
    {
        VtStyle style = StyleAfter(Csi + "1;2;3;4;5;7;8;9;53m" + Csi + "22;23;24;25;27;28;29;55m");

        Assert.Equal(VtAttributes.None, style.Attributes);
    }

    [Theory]
    [InlineData("\u001b[0m")]
    [InlineData("\u001b[m")]
    [InlineData("\u001b[;m")]
    public void Sgr_Reset_RestoresDefault(string reset)
    {
        Assert.Equal(VtStyle.Default, StyleAfter(Csi + "1;31;42m" + reset));
    }

    [Fact]
    public void Sgr_BasicAndBrightColors_MapToPaletteIndexes()
    {
        VtStyle basic = StyleAfter(Csi + "31;42m");
        VtStyle bright = StyleAfter(Csi + "93;104m");

        Assert.Equal(VtColor.FromIndex(1), basic.Foreground);
        Assert.Equal(VtColor.FromIndex(2), basic.Background);
        Assert.Equal(VtColor.FromIndex(11), bright.Foreground);
        Assert.Equal(VtColor.FromIndex(12), bright.Background);
    }

    [Fact]
    public void Sgr_DefaultColors_ResetColorsOnly()
    {
        VtStyle style = StyleAfter(Csi + "1;31;42m" + Csi + "39;49m");

        Assert.Equal(new VtStyle(VtColor.Default, VtColor.Default, VtAttributes.Bold), style);
    }

    [Theory]
    [InlineData("\u001b[38;5;208;48;5;17m")]
    [InlineData("\u001b[38:5:208;48:5:17m")]
    public void Sgr_256Colors_BothForms(string sgr)
    {
        VtStyle style = StyleAfter(sgr);

        Assert.Equal(VtColor.FromIndex(208), style.Foreground);
        Assert.Equal(VtColor.FromIndex(17), style.Background);
    }

    [Theory]
    [InlineData("\u001b[38;2;1;2;3;48;2;10;20;30m")]
    [InlineData("\u001b[38:2:1:2:3;48:2:10:20:30m")]
    [InlineData("\u001b[38:2::1:2:3;48:2:0:10:20:30m")]
    public void Sgr_TrueColor_AllForms(string sgr)
    {
        VtStyle style = StyleAfter(sgr);

        Assert.Equal(VtColor.FromRgb(1, 2, 3), style.Foreground);
        Assert.Equal(VtColor.FromRgb(10, 20, 30), style.Background);
        Assert.Equal(VtColorKind.Rgb, style.Foreground.Kind);
        Assert.Equal((1, 2, 3), (style.Foreground.R, style.Foreground.G, style.Foreground.B));
    }

    [Fact]
    public void Sgr_ExtendedColorFollowedByAttribute_AppliesBoth()
    {
        VtStyle style = StyleAfter(Csi + "38;5;100;1;48;2;1;1;1;4m");

        Assert.Equal(VtColor.FromIndex(100), style.Foreground);
        Assert.Equal(VtColor.FromRgb(1, 1, 1), style.Background);
        Assert.Equal(VtAttributes.Bold | VtAttributes.Underline, style.Attributes);
    }

    [Theory]
    [InlineData("\u001b[4:3m", true)]
    [InlineData("\u001b[4:1m", true)]
    [InlineData("\u001b[4m\u001b[4:0m", false)]
    [InlineData("\u001b[21m", true)]
    public void Sgr_UnderlineStyles_MapToUnderline(string sgr, bool underlined)
    {
        Assert.Equal(underlined, (StyleAfter(sgr).Attributes & VtAttributes.Underline) != 0);
    }

    [Theory]
    [InlineData("\u001b[58;2;1;2;3;1m")]
    [InlineData("\u001b[58:5:3;1m")]
    [InlineData("\u001b[58;5;3;1m")]
    public void Sgr_UnderlineColor_IsSkippedWithItsArguments(string sgr)
    {
        VtStyle style = StyleAfter(sgr);

        Assert.Equal(VtAttributes.Bold, style.Attributes);
        Assert.True(style.Foreground.IsDefault);
    }

    [Theory]
    [InlineData("\u001b[38;5m")]
    [InlineData("\u001b[38;9;1m")]
    [InlineData("\u001b[38;2;1;2m")]
    [InlineData("\u001b[38;5;300m")]
    [InlineData("\u001b[38:2:1m")]
    public void Sgr_MalformedExtendedColor_ChangesNothing(string sgr)
    {
        Assert.Equal(VtStyle.Default, StyleAfter(sgr));
    }

    [Fact]
    public void Sgr_PrivateMarker_IsNotSgr()
    {
        Assert.Equal(VtStyle.Default, StyleAfter(Csi + ">4;2m" + Csi + "?1m"));
    }

    [Fact]
    public void Sgr_Style_AppliesOnlyToFollowingCells()
    {
        var screen = Screen(10, 1, "a" + Csi + "7mb" + Csi + "27mc");

        Assert.Equal(VtAttributes.None, screen.GetCell(0, 0).Style.Attributes);
        Assert.Equal(VtAttributes.Inverse, screen.GetCell(0, 1).Style.Attributes);
        Assert.Equal(VtAttributes.None, screen.GetCell(0, 2).Style.Attributes);
    }

    [Fact]
    public void VtColor_ToString_DescribesKind()
    {
        Assert.Equal("Default", VtColor.Default.ToString());
        Assert.Equal("Indexed(5)", VtColor.FromIndex(5).ToString());
        Assert.Equal("Rgb(1,2,3)", VtColor.FromRgb(1, 2, 3).ToString());
    }
}
