using System.Text;
using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

public sealed class VtFuzzTests
{
    private const int RandomBytesLength = 200 * 1024;

    /// <summary>Pieces that steer random input into every parser state and many operations.</summary>
    private static readonly string[] Tokens =
    [
        Esc, Csi, Csi + "?", Csi + ">", Csi + "<", Csi + "=", Esc + "]", Esc + "P", Esc + "_", Esc + "^", Esc + "X", Esc + "\\",
        Esc + "(", Esc + ")", Esc + "#", Esc + "7", Esc + "8", Esc + "c", Esc + "D", Esc + "E", Esc + "M", Esc + "H",
        "0", "1", "2", "5", "7", "9", "25", "38", "48", "47", "1049", "1047", "2026", "2004", "6", "99999", ";", ":",
        " ", "!", "$", "\"", "'",
        "@", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "P", "S", "T", "X", "Z", "`", "a", "b",
        "c", "d", "e", "f", "g", "h", "l", "m", "n", "p", "q", "r", "s", "t", "u", "y", "~",
        "\r", "\n", "\t", "\b", "\u0007", "\u000b", "\u000c", "\u000e", "\u000f", "\u0018", "\u001a", "\u007f",
        "text", "中", "😀", "e\u0301", "\u200d", "ｱ", "─", "\u0085",
    ];

    [Fact]
    public void Feed_RandomBytes_NeverThrowsAndKeepsStateConsistent()
    {
        var random = new Random(12345);
        var data = new byte[RandomBytesLength];
        random.NextBytes(data);
        var screen = new VtScreen(80, 24, scrollbackLines: 100);

        int offset = 0;
        while (offset < data.Length)
        {
            int length = Math.Min(random.Next(1, 512), data.Length - offset);
            screen.Feed(data.AsSpan(offset, length));
            offset += length;
            AssertCursorInBounds(screen);
        }

        AssertCellsConsistent(screen);
        Assert.Equal(screen.Rows, screen.GetLines().Count);
    }

    [Fact]
    public void Feed_RandomEscapeSequences_NeverThrowAndKeepStateConsistent()
    {
        var random = new Random(4242);
        var screen = new VtScreen(30, 10, scrollbackLines: 20);
        for (int round = 0; round < 200; round++)
        {
            string input = RandomSequenceText(random, 200);
            screen.Feed(input);
            AssertCursorInBounds(screen);
            if (round % 25 == 0)
            {
                screen.Resize(random.Next(1, 60), random.Next(1, 20));
                AssertCursorInBounds(screen);
            }
        }

        AssertCellsConsistent(screen);
        _ = screen.RenderAnsi(includeScrollback: true);
        _ = screen.Scrollback.ToList();
    }

    [Fact]
    public void Feed_RandomInputSplitAnywhere_GivesSameScreenAsWholeInput()
    {
        var random = new Random(777);
        for (int round = 0; round < 30; round++)
        {
            byte[] data = Encoding.UTF8.GetBytes(RandomSequenceText(random, 400));
            var whole = new VtScreen(25, 8);
            var split = new VtScreen(25, 8);

            whole.Feed(data);
            int offset = 0;
            while (offset < data.Length)
            {
                int length = Math.Min(random.Next(1, 8), data.Length - offset);
                split.Feed(data.AsSpan(offset, length));
                offset += length;
            }

            AssertSameScreen(whole, split);
            Assert.Equal(whole.Title, split.Title);
        }
    }

    [Fact]
    public void RenderAnsi_AfterRandomSequences_ReproducesScreen()
    {
        var random = new Random(9001);
        for (int round = 0; round < 30; round++)
        {
            var original = new VtScreen(25, 8);
            original.Feed(RandomSequenceText(random, 400));
            var replica = new VtScreen(25, 8);

            replica.Feed(original.RenderAnsi());

            AssertSameScreen(original, replica);
            Assert.Equal(original.CurrentStyle, replica.CurrentStyle);
        }
    }

    private static string RandomSequenceText(Random random, int tokenCount)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < tokenCount; i++)
        {
            builder.Append(Tokens[random.Next(Tokens.Length)]);
        }

        return builder.ToString();
    }

    private static void AssertCursorInBounds(VtScreen screen)
    {
        (int row, int col) = screen.Cursor;
        Assert.InRange(row, 0, screen.Rows - 1);
        Assert.InRange(col, 0, screen.Cols - 1);
        (int top, int bottom) = screen.ScrollRegion;
        Assert.InRange(top, 0, bottom);
        Assert.InRange(bottom, top, screen.Rows - 1);
    }

    /// <summary>Every wide character has its tail right after it, and no tail stands alone.</summary>
    private static void AssertCellsConsistent(VtScreen screen)
    {
        for (int row = 0; row < screen.Rows; row++)
        {
            for (int col = 0; col < screen.Cols; col++)
            {
                VtCell cell = screen.GetCell(row, col);
                if (cell.Width == 2)
                {
                    Assert.True(col + 1 < screen.Cols && screen.GetCell(row, col + 1).IsWideTail, $"lead without tail at {row},{col}");
                }

                if (cell.IsWideTail)
                {
                    Assert.True(col > 0 && screen.GetCell(row, col - 1).Width == 2, $"tail without lead at {row},{col}");
                }
            }
        }
    }
}
