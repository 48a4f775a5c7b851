namespace AgentSidecar.Terminal.Vt;

/// <summary>REP (CSI n b): the character printed just before, n more times, at a bounded cost whatever n.</summary>
/// <remarks>
/// Problem: a worker printing <c>a ESC[65535b</c> in a loop (9 bytes asking for 65,535 cells) took
/// a core in the emulator and slowed echo in every other session to ~1.1 s (issue 16); cutting n to
/// a screenful still cost ~2,000 one-character prints per sequence and left the cursor where no
/// terminal would put it. Solution: with autowrap, every line the repeat fills after its first wrap
/// is the same line. Once the cursor has reached the row where it stays and the rows it scrolls
/// hold only that line, each further line scrolls the same picture again: those lines are skipped
/// (the screen, the cursor and the wrap state end exactly as an unbounded run leaves them), and the
/// lines that are printed are written a run at a time. Of the skipped lines, at most one screenful
/// goes to the scrollback (an unbounded run would push up to n / cols copies of the same line).
/// Without autowrap the cursor stops in the last column, so a line's worth of prints decides.
/// </remarks>
public sealed partial class VtScreen
{
    /// <summary>Prints beyond the cursor's line that reach a repeating state: its own line, and this slack for the first wrap.</summary>
    private const int RepeatSlackPrints = 2;

    private void RepeatCharacter(int codePoint, int count)
    {
        if (codePoint == NoLastPrinted)
        {
            return;
        }

        // The same mapping as Print's, so the cells written below are the ones Print would write.
        int mapped = codePoint < FirstC1 ? VtCharsetMap.Map(_charsets[_glSet], codePoint) : codePoint;
        int width = CharWidth.Of(mapped);
        int perLine = width == CharWidth.Wide ? Cols / CharWidth.Wide : Cols;
        if (!AutoWrap || width == CharWidth.Zero || perLine == 0 || (codePoint >= FirstC1 && codePoint < FirstAfterC1))
        {
            // The cursor stops in the last column (or a wide character is dropped there): after a
            // line's worth, each print writes the same cells again.
            RepeatPrints(codePoint, mapped, width, Math.Min(count, Math.Max(Cols, MaxCombiningLength) + RepeatSlackPrints));
        }
        else
        {
            // The first wrap comes within Cols + 1 prints; after it, Rows + 1 more lines bring the
            // cursor to the row it keeps and fill the rows it scrolls with the repeated line (and
            // push at least one of them to the scrollback). From there the state repeats every line.
            int settle = Cols + 1 + ((Rows + 1) * perLine);
            if (count <= settle + perLine)
            {
                RepeatPrints(codePoint, mapped, width, count);
            }
            else
            {
                int skippedLines = (count - settle) / perLine;
                RepeatPrints(codePoint, mapped, width, settle);
                PushRepeatedLines(Math.Min(skippedLines, Rows));
                RepeatPrints(codePoint, mapped, width, count - settle - (skippedLines * perLine));
            }
        }

        // REP is itself a sequence, so a second REP right after it repeats nothing (as in xterm.js).
        _lastPrintedCodePoint = NoLastPrinted;
    }

    /// <summary>
    /// Exactly <paramref name="count"/> prints of <paramref name="codePoint"/>: runs of whole cells
    /// for a narrow character written over the line (the common case), one Print each otherwise.
    /// </summary>
    private void RepeatPrints(int codePoint, int mapped, int width, int count)
    {
        if (width != CharWidth.Narrow || InsertMode || !AutoWrap)
        {
            for (int i = 0; i < count; i++)
            {
                Print(codePoint);
            }

            return;
        }

        var cell = new VtCell(mapped, _style);
        while (count > 0)
        {
            if (_pendingWrap)
            {
                WrapToNextLine();
            }

            VtLine line = CurrentLine;
            int col = _col;
            int run = Math.Min(Cols - col, count);
            Array.Fill(line.Cells, cell, col, run);
            EndRun(line, col, run, _style);
            count -= run;
        }
    }

    /// <summary>
    /// What <paramref name="lines"/> skipped lines of a repeat leave behind: when they would have
    /// scrolled the whole main screen, that many more copies of the repeated line (the newest in
    /// the scrollback) in the scrollback.
    /// </summary>
    private void PushRepeatedLines(int lines)
    {
        if (_row != _buffer.ScrollBottom || !KeepsScrolledLines(_buffer.ScrollTop, _buffer.ScrollBottom) || _scrollback.Count == 0)
        {
            return;
        }

        var model = new VtLine(Cols);
        model.CopyFrom(_scrollback.GetLine(_scrollback.Count - 1));
        VtLine? spare = null;
        for (int i = 0; i < lines; i++)
        {
            VtLine line = spare ?? new VtLine(Cols);
            line.CopyFrom(model);
            CellWrites += Cols;
            spare = _scrollback.Push(line);
        }
    }
}
