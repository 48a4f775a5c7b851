using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtRenderTests
{
    /// <summary>Renders <paramref name="original"/> and feeds the result into a fresh screen of the same size.</summary>
    private static VtScreen Replay(VtScreen original, bool includeScrollback = false)
    {
        var replica = new VtScreen(original.Cols, original.Rows);
        replica.Feed(original.RenderAnsi(includeScrollback));
        return replica;
    }

    [Theory]
    [InlineData("plain text\r\nsecond line")]
    [InlineData("\u001b[1;31mred bold\u001b[0m \u001b[38;5;208;48;2;1;2;3mext\u001b[7m inv \u001b[0;4;9;53;3;2;5;8mall")]
    [InlineData("\u001b[44m\u001b[2J\u001b[3;3Hon blue")]
    [InlineData("中文 😀 e\u0301 ｱ")]
    [InlineData("0123456789abcdefghijklmnopqrstuvwxyz0123456789")]
    [InlineData("abcdefghijklmnopqrst")]
    [InlineData("\u001b[?25l\u001b[?2004h\u001b[?1h\u001b[?1000h\u001b[?1006h\u001b[?1004h\u001b=\u001b[3 q\u001b[4h\u001b[20hmodes")]
    [InlineData("\u001b[3;6r\u001b[?6h\u001b[2;3Horigin")]
    [InlineData("\u001b[?7lno wrap at all on this line")]
    [InlineData("\u001b(0lqqk\u001b)0\u000e")]
    [InlineData("\u001b]0;title\u0007\u001b[1;32mpen stays")]
    [InlineData("main\u001b[?1049h\u001b[2;2H\u001b[33malt screen")]
    [InlineData("abcdefghijklmnopqrs中")]
    public void RenderAnsi_FedToFreshScreen_ReproducesScreen(string input)
    {
        var original = Screen(20, 8, input);

        VtScreen replica = Replay(original);

        AssertSameScreen(original, replica);
        Assert.Equal(original.CurrentStyle, replica.CurrentStyle);
        Assert.Equal(original.Title, replica.Title);
        Assert.Equal(original.ScrollRegion, replica.ScrollRegion);
        Assert.Equal(
            (original.CursorVisible, original.BracketedPaste, original.ApplicationCursorKeys, original.ApplicationKeypad, original.MouseTrackingMode, original.MouseEncodingMode, original.FocusReporting),
            (replica.CursorVisible, replica.BracketedPaste, replica.ApplicationCursorKeys, replica.ApplicationKeypad, replica.MouseTrackingMode, replica.MouseEncodingMode, replica.FocusReporting));
        Assert.Equal(
            (original.AutoWrap, original.OriginMode, original.InsertMode, original.NewLineMode, original.CursorShape, original.AlternateScreen),
            (replica.AutoWrap, replica.OriginMode, replica.InsertMode, replica.NewLineMode, replica.CursorShape, replica.AlternateScreen));
        for (int row = 0; row < original.Rows - 1; row++)
        {
            Assert.Equal(original.IsLineWrapped(row), replica.IsLineWrapped(row));
        }

        // Whatever the program writes next must land the same way on both.
        const string next = "Z\r\nq\u001b[1Amore";
        original.Feed(next);
        replica.Feed(next);
        AssertSameScreen(original, replica);
    }

    [Fact]
    public void RenderAnsi_WrappedLineFollowedByErasedLine_KeepsRowsInPlace()
    {
        var original = Screen(10, 4, "0123456789abc" + Csi + "2K\r\n\nlast");

        VtScreen replica = Replay(original);

        Assert.Equal(["0123456789", "", "", "last"], replica.GetLines());
        Assert.True(original.IsLineWrapped(0));
        AssertSameScreen(original, replica);
    }

    [Fact]
    public void RenderAnsi_AlternateScreen_MainScreenComesBackOnLeave()
    {
        var original = Screen(20, 4, "main text\r\nline 2" + Csi + "?1049h" + Csi + "Halt");
        VtScreen replica = Replay(original);

        original.Feed(Csi + "?1049l");
        replica.Feed(Csi + "?1049l");

        AssertSameScreen(original, replica);
        Assert.Equal("main text", replica.GetLine(0));
    }

    [Theory]
    [InlineData("\u001b[2;3H\u001b[1;31m\u001b7\u001b[0m\u001b[5;5Hx")]
    [InlineData("\u001b[3;4H\u001b[4m\u001b[?1049h\u001b[0m\u001b[2;2H\u001b[32m\u001b7\u001b[0m\u001b[6;6Hx")]
    public void RenderAnsi_SavedCursor_IsCarriedOver(string input)
    {
        var original = Screen(20, 8, input);
        VtScreen replica = Replay(original);

        original.Feed(Esc + "8y");
        replica.Feed(Esc + "8y");
        AssertSameScreen(original, replica);

        original.Feed(Csi + "?1049lz");
        replica.Feed(Csi + "?1049lz");
        AssertSameScreen(original, replica);
    }

    [Fact]
    public void RenderAnsi_IncludeScrollback_ReproducesScrollback()
    {
        var original = Screen(10, 3, string.Join("\r\n", Enumerable.Range(1, 9).Select(i => $"row {i}")) + "\r\n" + Csi + "32mabcdefghijklmno");

        VtScreen replica = Replay(original, includeScrollback: true);

        Assert.Equal(original.Scrollback, replica.Scrollback);
        AssertSameScreen(original, replica);
    }

    [Fact]
    public void RenderAnsi_WithoutScrollback_LeavesScrollbackEmpty()
    {
        var original = Screen(10, 2, "1\r\n2\r\n3\r\n4");

        VtScreen replica = Replay(original);

        Assert.Empty(replica.Scrollback);
        AssertSameScreen(original, replica);
    }

    [Fact]
    public void RenderAnsi_Output_StartsWithResetAndUsesSynchronizedUpdate()
    {
        string ansi = Screen(10, 2, "x").RenderAnsi();

        Assert.StartsWith(Esc + "c" + Csi + "?2026h", ansi, StringComparison.Ordinal);
        Assert.EndsWith(Csi + "?2026l", ansi, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderAnsi_RecordedClaudeSession_ReproducesScreen()
    {
        var original = new VtScreen(120, 40);
        foreach (byte[] chunk in VtGoldenTests.ReadRecordedChunks(Path.Combine(VtGoldenTests.CasesDirectory, "claude-code-session", "input.jsonl")))
        {
            original.Feed(chunk);
        }

        AssertSameScreen(original, Replay(original));
    }
}
