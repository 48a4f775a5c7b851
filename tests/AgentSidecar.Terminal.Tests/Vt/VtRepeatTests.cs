using System.Globalization;
using AgentSidecar.Terminal.Vt;
using static AgentSidecar.Terminal.Tests.Vt.VtTestHelpers;

namespace AgentSidecar.Terminal.Tests.Vt;

/// <summary>
/// REP and the other sequences with a count: the result is what printing (or repeating the
/// sequence) would give, and the work one sequence causes is bounded by the screen's size.
/// </summary>
public sealed class VtRepeatTests
{
    /// <summary>Big enough that no case evicts a line, so the scrollbacks can be compared whole.</summary>
    private const int NoEviction = 100_000;

    public static TheoryData<int, int, string, string, int> RepeatCases()
    {
        var data = new TheoryData<int, int, string, string, int>();
        int[] counts = [1, 9, 10, 11, 39, 40, 41, 57, 100, 257, 1000];
        (int Cols, int Rows, string Setup, string Char)[] screens =
        [
            (10, 4, string.Empty, "a"),
            (10, 4, "xyz", "a"),
            (10, 4, Csi + "4;1H", "a"),
            (10, 4, Csi + "41m" + "xyz", "b"),
            (10, 4, Csi + "2;3r" + Csi + "2;5H", "a"),
            (10, 5, Csi + "1;2r" + Csi + "4;5H", "a"),
            (10, 5, Csi + "2;4r" + Csi + "?6h" + Csi + "1;1H", "a"),
            (10, 4, Csi + "?1049h" + "q", "a"),
            (10, 4, Csi + "?7l" + "xyz", "a"),
            (10, 4, "abcdefghij\r\nklmnop\r\n" + Csi + "4h" + Csi + "1;3H", "Z"),
            (10, 4, "\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d" + Csi + "1;2H", "a"),
            (9, 4, "x", "\u4e2d"),
            (10, 4, "xyz", "\u4e2d"),
            (9, 4, Csi + "4h" + "abc", "\u4e2d"),
            (10, 4, Esc + "(0", "q"),
            (5, 1, "ab", "c"),
            (1, 3, string.Empty, "a"),
            (1, 3, string.Empty, "\u4e2d"),
        ];
        foreach (var (cols, rows, setup, ch) in screens)
        {
            foreach (int count in counts)
            {
                data.Add(cols, rows, setup, ch, count);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RepeatCases))]
    public void Repeat_AnyCount_LeavesTheScreenThatPrintingItWould(int cols, int rows, string setup, string ch, int count)
    {
        var repeated = Screen(cols, rows, setup + ch + Csi + count.ToString(CultureInfo.InvariantCulture) + "b", NoEviction);
        var printed = Screen(cols, rows, setup + string.Concat(Enumerable.Repeat(ch, count + 1)), NoEviction);

        AssertSameScreen(printed, repeated);
        Assert.Equal(printed.RenderAnsi(), repeated.RenderAnsi());
        for (int row = 0; row < rows; row++)
        {
            Assert.Equal(printed.IsLineWrapped(row), repeated.IsLineWrapped(row));
        }

        AssertSameScrollbackUpToRepeatedLines(printed, repeated, rows);
    }

    [Fact]
    public void Repeat_Bomb_CostsAFewScreensOfCellsAndEndsWhereAnUnboundedRunWould()
    {
        const int Cols = 80;
        const int Rows = 24;
        var screen = Screen(Cols, Rows, "a");
        long before = screen.CellWrites;

        screen.Feed(Csi + "65535b");

        // Unbounded: 65,535 cells printed and 819 lines scrolled (another 65,520 cells). Bounded: a
        // line to the first wrap, Rows + 2 lines to the repeating state, one screen of scrollback
        // copies, and blanking the rows scrolled meanwhile.
        long work = screen.CellWrites - before;
        Assert.InRange(work, 1, 4 * Cols * Rows);
        var printed = Screen(Cols, Rows, new string('a', 65536));
        AssertSameScreen(printed, screen);
    }

    [Fact]
    public void Repeat_BombInALoop_CostsTheSameForEachSequence()
    {
        const int Cols = 80;
        const int Rows = 24;
        const int Sequences = 2000;
        var screen = Screen(Cols, Rows);
        byte[] bomb = Utf8("a" + Csi + "65535b");

        for (int i = 0; i < Sequences; i++)
        {
            screen.Feed(bomb);
        }

        Assert.InRange(screen.CellWrites, Sequences, (long)Sequences * 4 * Cols * Rows);
        Assert.Equal(new string('a', Cols), screen.GetLine(0));
        Assert.Equal(DefaultScrollbackFull(), screen.Scrollback.Count);
    }

    public static TheoryData<string, string> CountedSequences()
    {
        var data = new TheoryData<string, string>();
        foreach (string final in new[] { "S", "T", "L", "M", "@", "P" })
        {
            foreach (string region in new[] { string.Empty, Csi + "2;4r" })
            {
                data.Add(final, region);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CountedSequences))]
    public void CountedEdit_AnyCount_DoesWhatRepeatingItDoesAndCostsAtMostAScreen(string final, string region)
    {
        const int Cols = 5;
        const int Rows = 6;
        string setup = "aaaaa\r\nbbbbb\r\nccccc\r\nddddd\r\neeeee\r\nfffff" + region + Csi + "3;2H" + Csi + "44m";
        foreach (int count in new[] { 1, 2, 3, 5, 6, 7, 100, 65535 })
        {
            var once = Screen(Cols, Rows, setup, NoEviction);
            long before = once.CellWrites;
            once.Feed(Csi + count.ToString(CultureInfo.InvariantCulture) + final);
            long work = once.CellWrites - before;

            // One step at a time, as many steps as the count is clamped to (the screen's size). IL /
            // DL also return the cursor to the first column, the same after every step.
            int steps = Math.Min(count, Math.Max(Cols, Rows));
            var stepwise = Screen(Cols, Rows, setup + string.Concat(Enumerable.Repeat(Csi + final, steps)), NoEviction);

            AssertSameScreen(stepwise, once);
            Assert.Equal(stepwise.Scrollback, once.Scrollback);
            Assert.InRange(work, 0, Cols * Rows);
        }
    }

    private static int DefaultScrollbackFull() => VtScreen.DefaultScrollbackLines;

    /// <summary>
    /// The scrollbacks hold the same lines, except that the repeat may leave fewer copies of its
    /// repeated line (at least a screenful of them, or all when there were fewer).
    /// </summary>
    private static void AssertSameScrollbackUpToRepeatedLines(VtScreen expected, VtScreen actual, int rows)
    {
        var want = expected.Scrollback.ToList();
        var got = actual.Scrollback.ToList();
        if (want.SequenceEqual(got))
        {
            return;
        }

        string repeatedLine = want[^1];
        int wantRun = TrailingRun(want, repeatedLine);
        int gotRun = TrailingRun(got, repeatedLine);
        Assert.Equal(want[..^wantRun], got[..^gotRun]);
        Assert.InRange(gotRun, Math.Min(wantRun, rows), wantRun);
    }

    private static int TrailingRun(List<string> lines, string line)
    {
        int run = 0;
        while (run < lines.Count && lines[lines.Count - 1 - run] == line)
        {
            run++;
        }

        return run;
    }
}
