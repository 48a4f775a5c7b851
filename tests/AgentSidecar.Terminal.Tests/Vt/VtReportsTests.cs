using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtReportsTests
{
    private static List<string> Responses(VtScreen screen)
    {
        var responses = new List<string>();
        while (screen.TryDequeueResponse(out string response))
        {
            responses.Add(response);
        }

        return responses;
    }

    [Theory]
    [InlineData("\u001b[3;5H\u001b[6n", "\u001b[3;5R")]
    [InlineData("\u001b[3;5H\u001b[?6n", "\u001b[?3;5R")]
    [InlineData("\u001b[5n", "\u001b[0n")]
    [InlineData("\u001b[c", "\u001b[?1;2c")]
    [InlineData("\u001b[0c", "\u001b[?1;2c")]
    [InlineData("\u001bZ", "\u001b[?1;2c")]
    [InlineData("\u001b[>c", "\u001b[>0;276;0c")]
    [InlineData("\u001b[>0q", "\u001bP>|agent-sidecar\u001b\\")]
    [InlineData("\u001b[18t", "\u001b[8;5;20t")]
    [InlineData("\u001b[?2026$p", "\u001b[?2026;2$y")]
    [InlineData("\u001b[?2026h\u001b[?2026$p", "\u001b[?2026;1$y")]
    [InlineData("\u001b[?12345$p", "\u001b[?12345;0$y")]
    [InlineData("\u001b[4$p", "\u001b[4;2$y")]
    public void Query_Sequence_QueuesTerminalAnswer(string query, string answer)
    {
        var screen = Screen(20, 5, query);

        Assert.Equal([answer], Responses(screen));
    }

    [Fact]
    public void CursorPositionReport_InOriginMode_IsRelativeToRegion()
    {
        var screen = Screen(20, 6, Csi + "2;5r" + Csi + "?6h" + Csi + "2;3H" + Csi + "6n");

        Assert.Equal([Csi + "2;3R"], Responses(screen));
    }

    [Fact]
    public void Queries_DoNotChangeScreen()
    {
        var screen = Screen(20, 2, "ab" + Csi + "6n" + Csi + "c" + Csi + ">0q" + Csi + "14t" + Csi + "?u");

        Assert.Equal("ab", screen.GetLine(0));
        Assert.Equal((0, 2), screen.Cursor);
    }

    [Fact]
    public void Responses_NeverCollected_AreBounded()
    {
        var screen = new VtScreen(20, 2);
        for (int i = 0; i < 500; i++)
        {
            screen.Feed(Csi + "5n");
        }

        Assert.True(screen.PendingResponseCount <= 64);
    }
}
