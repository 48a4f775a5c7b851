namespace AgentSidecar.Terminal.Vt;

/// <summary>Erasing, inserting and deleting characters and lines, and scrolling.</summary>
public sealed partial class VtScreen
{
    private const int EraseToEnd = 0;
    private const int EraseToStart = 1;
    private const int EraseAll = 2;
    private const int EraseScrollback = 3;

    private VtLine[] _scrollScratch = [];

    /// <summary>ED: 0 cursor to end, 1 start to cursor, 2 whole screen, 3 scrollback only (as xterm); the cursor does not move.</summary>
    private void EraseInDisplay(int mode)
    {
        VtStyle erase = EraseStyle;
        VtLine[] lines = _buffer.Lines;
        CellWrites += mode == EraseScrollback ? 0 : (long)Rows * Cols;
        switch (mode)
        {
            case EraseToEnd:
                EraseInLine(EraseToEnd);
                for (int row = _row + 1; row < Rows; row++)
                {
                    lines[row].Reset(Cols, erase);
                }

                break;
            case EraseToStart:
                for (int row = 0; row < _row; row++)
                {
                    lines[row].Reset(Cols, erase);
                }

                EraseInLine(EraseToStart);
                break;
            case EraseAll:
                foreach (VtLine line in lines)
                {
                    line.Reset(Cols, erase);
                }

                break;
            case EraseScrollback:
                _scrollback.Clear();
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// EL: 0 cursor to end of line, 1 start of line to cursor, 2 whole line. As in xterm.js, a
    /// pending wrap counts as standing just past the last column: EL 0 then erases nothing and the
    /// wrap stays pending, so a program's full-width line followed by ESC[K keeps its last character.
    /// </summary>
    private void EraseInLine(int mode)
    {
        VtLine line = CurrentLine;
        VtStyle erase = EraseStyle;
        int col = _pendingWrap ? Cols : _col;
        CellWrites += Cols;
        switch (mode)
        {
            case EraseToEnd:
                line.Fill(col, Cols, erase);
                line.Wrapped = false;
                break;
            case EraseToStart:
                line.Fill(0, Math.Min(col + 1, Cols), erase);
                break;
            case EraseAll:
                line.Fill(0, Cols, erase);
                line.Wrapped = false;
                break;
            default:
                break;
        }
    }

    /// <summary>ECH: blanks <paramref name="count"/> cells from the cursor without moving it.</summary>
    private void EraseChars(int count)
    {
        _pendingWrap = false;
        int end = _col + Math.Min(count, Cols - _col);
        CurrentLine.Fill(_col, end, EraseStyle);
        CellWrites += end - _col;
    }

    /// <summary>ICH: inserts blanks at the cursor, pushing the rest of the line right (cells falling off are lost).</summary>
    private void InsertChars(int count)
    {
        _pendingWrap = false;
        ShiftRight(CurrentLine, _col, count, EraseStyle);
    }

    /// <summary>Moves cells from <paramref name="col"/> right by <paramref name="count"/>, filling the gap with <paramref name="blankStyle"/> blanks.</summary>
    private void ShiftRight(VtLine line, int col, int count, VtStyle blankStyle)
    {
        count = Math.Min(count, Cols - col);
        VtCell[] cells = line.Cells;
        Array.Copy(cells, col, cells, col + count, Cols - col - count);
        line.Fill(col, col + count, blankStyle);
        CellWrites += Cols - col;

        // The character shifted into the last column may have lost its right half.
        line.RepairWideBoundary(Cols, blankStyle);
    }

    /// <summary>DCH: deletes cells at the cursor, pulling the rest of the line left and blanking the end.</summary>
    private void DeleteChars(int count)
    {
        _pendingWrap = false;
        VtLine line = CurrentLine;
        count = Math.Min(count, Cols - _col);
        VtCell[] cells = line.Cells;
        Array.Copy(cells, _col + count, cells, _col, Cols - _col - count);
        line.Fill(Cols - count, Cols, EraseStyle);
        CellWrites += Cols - _col;
        line.RepairWideBoundary(_col, EraseStyle);
    }

    /// <summary>IL: inserts blank lines at the cursor row, inside the scroll region only.</summary>
    private void InsertLines(int count)
    {
        if (_row < _buffer.ScrollTop || _row > _buffer.ScrollBottom)
        {
            return;
        }

        ScrollRegionDown(_row, _buffer.ScrollBottom, count);
        CarriageReturn();
    }

    /// <summary>DL: deletes lines at the cursor row, inside the scroll region only; they do not go to the scrollback.</summary>
    private void DeleteLines(int count)
    {
        if (_row < _buffer.ScrollTop || _row > _buffer.ScrollBottom)
        {
            return;
        }

        ScrollRegionUp(_row, _buffer.ScrollBottom, count, allowScrollback: false);
        CarriageReturn();
    }

    /// <summary>SU: scrolls the region up.</summary>
    private void ScrollUp(int count) => ScrollRegionUp(_buffer.ScrollTop, _buffer.ScrollBottom, count);

    /// <summary>SD: scrolls the region down. The new rows are plain blanks (no background colour), as in xterm.js.</summary>
    private void ScrollDown(int count) => ScrollRegionDown(_buffer.ScrollTop, _buffer.ScrollBottom, count, VtStyle.Default);

    /// <summary>
    /// Moves rows [top, bottom] up by <paramref name="count"/>, blanking the rows freed at the bottom.
    /// Rows leaving a full-screen region of the main screen go to the scrollback; their line objects
    /// move there as they are, and the line evicted from a full scrollback is reused. The rows move
    /// once, whatever the count (one row at a time cost height x count: 4 million moves for
    /// CSI 2000 S on the tallest screen).
    /// </summary>
    private void ScrollRegionUp(int top, int bottom, int count, bool allowScrollback = true)
    {
        int height = bottom - top + 1;
        count = Math.Min(count, height);
        bool keep = allowScrollback && KeepsScrolledLines(top, bottom);
        VtLine[] lines = _buffer.Lines;
        VtLine[] leaving = TakeScrollScratch(lines, top, count);
        Array.Copy(lines, top + count, lines, top, height - count);
        VtStyle erase = EraseStyle;
        for (int i = 0; i < count; i++)
        {
            VtLine fresh = keep ? _scrollback.Push(leaving[i]) ?? new VtLine(Cols) : leaving[i];
            fresh.Reset(Cols, erase);
            lines[bottom - count + 1 + i] = fresh;
        }

        Array.Clear(leaving, 0, count);
        CellWrites += (long)count * Cols;
    }

    /// <summary>Moves rows [top, bottom] down by <paramref name="count"/>, blanking the rows freed at the top.</summary>
    private void ScrollRegionDown(int top, int bottom, int count, VtStyle? blankStyle = null)
    {
        int height = bottom - top + 1;
        count = Math.Min(count, height);
        VtLine[] lines = _buffer.Lines;
        VtLine[] leaving = TakeScrollScratch(lines, bottom - count + 1, count);
        Array.Copy(lines, top, lines, top + count, height - count);
        VtStyle erase = blankStyle ?? EraseStyle;
        for (int i = 0; i < count; i++)
        {
            VtLine fresh = leaving[i];
            fresh.Reset(Cols, erase);
            lines[top + i] = fresh;
        }

        Array.Clear(leaving, 0, count);
        CellWrites += (long)count * Cols;
    }

    /// <summary>True when rows scrolled off [top, bottom] go to the scrollback: the whole main screen scrolls.</summary>
    private bool KeepsScrolledLines(int top, int bottom) => top == 0 && bottom == Rows - 1 && !AlternateScreen;

    /// <summary>Copies rows [from, from + count) into a reused scratch array (callers clear it after use).</summary>
    private VtLine[] TakeScrollScratch(VtLine[] lines, int from, int count)
    {
        if (_scrollScratch.Length < count)
        {
            _scrollScratch = new VtLine[lines.Length];
        }

        Array.Copy(lines, from, _scrollScratch, 0, count);
        return _scrollScratch;
    }
}
