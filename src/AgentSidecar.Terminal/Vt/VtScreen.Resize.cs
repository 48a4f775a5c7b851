namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// Resizing. Lines are cut or padded, not reflowed. When the height shrinks, blank rows below the
/// cursor are dropped first and then rows from the top (into the scrollback on the main screen),
/// so the cursor keeps its line, as xterm.js does. When it grows, blank rows are added at the bottom.
/// </summary>
public sealed partial class VtScreen
{
    /// <summary>Changes the size (each clamped to 1..<see cref="MaxDimension"/>); scroll margins are reset.</summary>
    public void Resize(int cols, int rows)
    {
        cols = ClampDimension(cols);
        rows = ClampDimension(rows);
        if (cols == Cols && rows == Rows)
        {
            return;
        }

        bool alternate = AlternateScreen;
        ResizeMainBuffer(cols, rows, alternate);
        ResizeAlternateBuffer(cols, rows, alternate);
        _tabStops = ResizeTabStops(_tabStops, cols);
        Cols = cols;
        Rows = rows;
        _mainBuffer.ResetMargins();
        _altBuffer.ResetMargins();
        _row = Math.Clamp(_row, 0, rows - 1);
        _col = Math.Clamp(_col, 0, cols - 1);
        _pendingWrap = false;
        _changed = true;
        CommitVersion();
    }

    private static bool[] ResizeTabStops(bool[] old, int cols)
    {
        var stops = new bool[cols];
        Array.Copy(old, stops, Math.Min(old.Length, cols));
        for (int col = old.Length; col < cols; col++)
        {
            stops[col] = col % DefaultTabInterval == 0;
        }

        return stops;
    }

    private void ResizeMainBuffer(int cols, int rows, bool alternateActive)
    {
        // While the alternate screen is shown, the main screen's cursor is the one 1049 saved.
        int cursorRow = alternateActive ? _mainBuffer.SavedCursor?.Row ?? _row : _row;
        int newRow = ResizeBuffer(_mainBuffer, cols, rows, cursorRow, toScrollback: true);
        if (alternateActive)
        {
            if (_mainBuffer.SavedCursor is { } saved)
            {
                _mainBuffer.SavedCursor = saved with { Row = newRow };
            }
        }
        else
        {
            _row = newRow;
        }
    }

    private void ResizeAlternateBuffer(int cols, int rows, bool alternateActive)
    {
        int cursorRow = alternateActive ? _row : _altBuffer.SavedCursor?.Row ?? 0;
        int newRow = ResizeBuffer(_altBuffer, cols, rows, cursorRow, toScrollback: false);
        if (alternateActive)
        {
            _row = newRow;
        }
    }

    /// <summary>Resizes one screen; returns where the row <paramref name="cursorRow"/> ended up.</summary>
    private int ResizeBuffer(VtScreenBuffer buffer, int cols, int rows, int cursorRow, bool toScrollback)
    {
        var lines = new List<VtLine>(buffer.Lines);
        foreach (VtLine line in lines)
        {
            line.Resize(cols);
        }

        cursorRow = Math.Clamp(cursorRow, 0, lines.Count - 1);
        int excess = lines.Count - rows;
        while (excess > 0 && lines.Count - 1 > cursorRow && IsBlankLine(lines[^1]))
        {
            lines.RemoveAt(lines.Count - 1);
            excess--;
        }

        for (; excess > 0; excess--)
        {
            VtLine leaving = lines[0];
            lines.RemoveAt(0);
            cursorRow--;
            if (toScrollback)
            {
                _scrollback.Push(leaving);
            }
        }

        while (lines.Count < rows)
        {
            lines.Add(new VtLine(cols));
        }

        buffer.Lines = [.. lines];
        return Math.Clamp(cursorRow, 0, rows - 1);
    }

    private static bool IsBlankLine(VtLine line)
    {
        foreach (VtCell cell in line.Cells)
        {
            if (!cell.IsBlank || !cell.Style.IsDefault)
            {
                return false;
            }
        }

        return true;
    }
}
