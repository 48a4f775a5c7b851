using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtModesTests
{
    [Fact]
    public void AltScreen1049_EnterAndLeave_RestoresMainScreenAndCursor()
    {
        var screen = Screen(10, 3, "main" + Csi + "?1049h");

        Assert.True(screen.AlternateScreen);
        Assert.Equal(["", "", ""], screen.GetLines());

        screen.Feed(Csi + "Halt" + Csi + "3;3H" + Csi + "?1049l");

        Assert.False(screen.AlternateScreen);
        Assert.Equal(["main", "", ""], screen.GetLines());
        Assert.Equal((0, 4), screen.Cursor);
    }

    [Fact]
    public void AltScreen1049_Reenter_StartsBlank()
    {
        var screen = Screen(10, 2, Csi + "?1049hold" + Csi + "?1049l" + Csi + "?1049h");

        Assert.Equal(["", ""], screen.GetLines());
    }

    [Fact]
    public void AltScreen47_Reenter_KeepsContent()
    {
        var screen = Screen(10, 2, Csi + "?47hold" + Csi + "?47l");

        Assert.Equal(["", ""], screen.GetLines());
        Assert.Equal((0, 3), screen.Cursor);

        screen.Feed(Csi + "?47h");
        Assert.Equal(["old", ""], screen.GetLines());
    }

    [Fact]
    public void AltScreen1047_Leave_ClearsAlternate()
    {
        var screen = Screen(10, 2, "main\r" + Csi + "?1047hold" + Csi + "?1047l");

        Assert.Equal(["main", ""], screen.GetLines());
        screen.Feed(Csi + "?47h");
        Assert.Equal(["", ""], screen.GetLines());
    }

    [Fact]
    public void AltScreen_LinesScrolledOff_DoNotReachScrollback()
    {
        var screen = Screen(10, 2, Csi + "?1049h1\r\n2\r\n3\r\n4");

        Assert.Empty(screen.Scrollback);
    }

    [Fact]
    public void AltScreen_DecscInside_DoesNotOverwriteMainSavedCursor()
    {
        var screen = Screen(10, 3, Csi + "2;5H" + Csi + "?1049h" + Csi + "3;1H" + Esc + "7" + Csi + "?1049l");

        Assert.Equal((1, 4), screen.Cursor);
    }

    [Fact]
    public void AltScreen1049_ResetOnMainScreen_StillRestoresCursor()
    {
        var screen = Screen(10, 3, Csi + "2;3H" + Csi + "1m" + Esc + "7" + Csi + "H" + Csi + "0m" + Csi + "?1049l");

        Assert.Equal((1, 2), screen.Cursor);
        Assert.Equal(VtAttributes.Bold, screen.CurrentStyle.Attributes);
    }

    [Fact]
    public void RestoreCursor_IntoOriginMode_KeepsCursorInsideRegion()
    {
        var screen = Screen(10, 6, Csi + "?6h" + Esc + "7" + Csi + "?6l" + Csi + "3;5r" + Esc + "8");

        Assert.True(screen.OriginMode);
        Assert.Equal((2, 0), screen.Cursor);
    }

    [Theory]
    [InlineData("\u001b[?25l", false)]
    [InlineData("\u001b[?25l\u001b[?25h", true)]
    public void CursorVisible_Mode25_Toggles(string input, bool visible)
    {
        Assert.Equal(visible, Screen(10, 2, input).CursorVisible);
    }

    [Fact]
    public void BracketedPaste_Mode2004_Toggles()
    {
        var screen = Screen(10, 2, Csi + "?2004h");
        Assert.True(screen.BracketedPaste);

        screen.Feed(Csi + "?2004l");
        Assert.False(screen.BracketedPaste);
    }

    [Fact]
    public void SynchronizedOutput_Mode2026_Toggles()
    {
        var screen = Screen(10, 2, Csi + "?2026h");
        Assert.True(screen.SynchronizedOutput);

        screen.Feed(Csi + "?2026l");
        Assert.False(screen.SynchronizedOutput);
    }

    [Fact]
    public void SetDecModes_SeveralInOneSequence_AllApply()
    {
        var screen = Screen(10, 2, Csi + "?25;2004;1h");

        Assert.True(screen.CursorVisible);
        Assert.True(screen.BracketedPaste);
        Assert.True(screen.ApplicationCursorKeys);

        screen.Feed(Csi + "?25;2004;1l");
        Assert.False(screen.CursorVisible);
        Assert.False(screen.BracketedPaste);
        Assert.False(screen.ApplicationCursorKeys);
    }

    [Fact]
    public void MouseModes_AreRecordedWithoutTouchingScreen()
    {
        var screen = Screen(10, 2, "ab" + Csi + "?1000h" + Csi + "?1006h" + Csi + "?1002h" + Csi + "?1h");

        Assert.Equal(1002, screen.MouseTrackingMode);
        Assert.Equal(1006, screen.MouseEncodingMode);
        Assert.Equal("ab", screen.GetLine(0));
        Assert.Equal((0, 2), screen.Cursor);

        screen.Feed(Csi + "?1006l" + Csi + "?1003l" + Csi + "?1002l");
        Assert.Equal(0, screen.MouseTrackingMode);
        Assert.Equal(0, screen.MouseEncodingMode);
    }

    [Fact]
    public void FocusReporting_Mode1004_Toggles()
    {
        Assert.True(Screen(10, 2, Csi + "?1004h").FocusReporting);
    }

    [Fact]
    public void ApplicationKeypad_EscEqualsAndGreater_Toggle()
    {
        var screen = Screen(10, 2, Esc + "=");
        Assert.True(screen.ApplicationKeypad);

        screen.Feed(Esc + ">");
        Assert.False(screen.ApplicationKeypad);
    }

    [Fact]
    public void CursorShape_Decscusr_IsRecorded()
    {
        Assert.Equal(5, Screen(10, 2, Csi + "5 q").CursorShape);
    }

    [Fact]
    public void SoftReset_Decstr_ResetsModesButKeepsText()
    {
        var screen = Screen(10, 4, "text" + Csi + "?25l" + Csi + "4h" + Csi + "?7l" + Csi + "1;31m" + Csi + "2;3r" + Csi + "!p");

        Assert.Equal("text", screen.GetLine(0));
        Assert.True(screen.CursorVisible);
        Assert.False(screen.InsertMode);
        Assert.True(screen.AutoWrap);
        Assert.Equal(VtStyle.Default, screen.CurrentStyle);
        Assert.Equal((0, 3), screen.ScrollRegion);
    }

    [Fact]
    public void FullReset_Ris_ReturnsToPowerOnState()
    {
        var screen = Screen(10, 2, "a\r\nb\r\nc" + Csi + "?25l" + Csi + "31m" + Csi + "?2004h" + Csi + "?1049h" + Esc + "c");

        Assert.Equal(["", ""], screen.GetLines());
        Assert.Empty(screen.Scrollback);
        Assert.False(screen.AlternateScreen);
        Assert.True(screen.CursorVisible);
        Assert.False(screen.BracketedPaste);
        Assert.Equal(VtStyle.Default, screen.CurrentStyle);
        Assert.Equal((0, 0), screen.Cursor);
    }

    [Fact]
    public void Reset_Method_ClearsScreenAndBumpsVersion()
    {
        var screen = Screen(10, 2, "abc");
        long before = screen.Version;

        screen.Reset();

        Assert.Equal(["", ""], screen.GetLines());
        Assert.True(screen.Version > before);
    }

    [Fact]
    public void OriginMode_Set_HomesToRegionTop()
    {
        var screen = Screen(10, 6, Csi + "3;5r" + Csi + "4;4H" + Csi + "?6h");

        Assert.Equal((2, 0), screen.Cursor);
    }
}
