namespace AgentSidecar.Terminal.Vt;

/// <summary>Cursor movement, tab stops, line feeds, save/restore and scroll margins.</summary>
public sealed partial class VtScreen
{
    private const int ClearTabStopAtCursor = 0;
    private const int ClearAllTabStops = 3;

    /// <summary>Top row the cursor may reach vertically: the margin when inside the region, else row 0.</summary>
    private int UpperLimit => _row >= _buffer.ScrollTop ? _buffer.ScrollTop : 0;

    /// <summary>Bottom row the cursor may reach vertically: the margin when inside the region, else the last row.</summary>
    private int LowerLimit => _row <= _buffer.ScrollBottom ? _buffer.ScrollBottom : Rows - 1;

    private void CarriageReturn()
    {
        _col = 0;
        _pendingWrap = false;
    }

    private void LineFeed()
    {
        Index();
        if (NewLineMode)
        {
            CarriageReturn();
        }
    }

    /// <summary>IND / LF: down one row, scrolling the region when on its bottom margin.</summary>
    private void Index()
    {
        _pendingWrap = false;
        if (_row == _buffer.ScrollBottom)
        {
            ScrollRegionUp(_buffer.ScrollTop, _buffer.ScrollBottom, 1);
        }
        else if (_row < Rows - 1)
        {
            _row++;
        }
    }

    /// <summary>RI: up one row, scrolling the region down when on its top margin.</summary>
    private void ReverseIndex()
    {
        _pendingWrap = false;
        if (_row == _buffer.ScrollTop)
        {
            ScrollRegionDown(_buffer.ScrollTop, _buffer.ScrollBottom, 1);
        }
        else if (_row > 0)
        {
            _row--;
        }
    }

    /// <summary>BS: one column left; from the pending-wrap state this lands on the second-to-last column, as in xterm.</summary>
    private void Backspace()
    {
        _pendingWrap = false;
        if (_col > 0)
        {
            _col--;
        }
    }

    private void CursorUp(int count)
    {
        _pendingWrap = false;
        _row = Math.Max(UpperLimit, _row - count);
    }

    private void CursorDown(int count)
    {
        _pendingWrap = false;
        _row = Math.Min(LowerLimit, _row + count);
    }

    private void CursorForward(int count)
    {
        _pendingWrap = false;
        _col = Math.Min(Cols - 1, _col + count);
    }

    private void CursorBackward(int count)
    {
        _pendingWrap = false;
        _col = Math.Max(0, _col - count);
    }

    /// <summary>CHA / HPA: absolute column (0-based).</summary>
    private void SetColumn(int col)
    {
        _pendingWrap = false;
        _col = Math.Clamp(col, 0, Cols - 1);
    }

    /// <summary>VPA: absolute row (0-based, relative to the top margin in origin mode).</summary>
    private void SetRow(int row)
    {
        _pendingWrap = false;
        _row = ClampRow(OriginMode ? row + _buffer.ScrollTop : row);
    }

    /// <summary>CUP / HVP: absolute position (0-based, relative to the top margin in origin mode).</summary>
    private void CursorPosition(int row, int col)
    {
        SetRow(row);
        SetColumn(col);
    }

    private int ClampRow(int row) => OriginMode
        ? Math.Clamp(row, _buffer.ScrollTop, _buffer.ScrollBottom)
        : Math.Clamp(row, 0, Rows - 1);

    /// <summary>HT / CHT. With a wrap pending nothing happens (as in xterm.js): the next character still wraps.</summary>
    private void TabForward(int count)
    {
        if (_pendingWrap)
        {
            return;
        }

        for (int i = 0; i < count && _col < Cols - 1; i++)
        {
            do
            {
                _col++;
            }
            while (_col < Cols - 1 && !_tabStops[_col]);
        }
    }

    /// <summary>CBT. With a wrap pending nothing happens, as in xterm.js.</summary>
    private void TabBackward(int count)
    {
        if (_pendingWrap)
        {
            return;
        }

        for (int i = 0; i < count && _col > 0; i++)
        {
            do
            {
                _col--;
            }
            while (_col > 0 && !_tabStops[_col]);
        }
    }

    private void ClearTabStops(int mode)
    {
        if (mode == ClearTabStopAtCursor)
        {
            _tabStops[_col] = false;
        }
        else if (mode == ClearAllTabStops)
        {
            Array.Clear(_tabStops);
        }
    }

    /// <summary>DECSC / SCOSC / 1048h: saves position, pen, origin mode and character sets.</summary>
    private void SaveCursor() =>
        _buffer.SavedCursor = new VtSavedCursor(
            _row, _col, _pendingWrap, _style, OriginMode, _charsets[0], _charsets[1], _charsets[2], _charsets[3], _glSet);

    /// <summary>DECRC / SCORC / 1048l: restores what <see cref="SaveCursor"/> saved, or the power-on state when nothing was saved.</summary>
    private void RestoreCursor()
    {
        VtSavedCursor saved = _buffer.SavedCursor ?? default;
        OriginMode = saved.OriginMode;

        // In origin mode the cursor is kept inside the scroll region, as xterm.js does.
        _row = ClampRow(saved.Row);
        _col = Math.Clamp(saved.Col, 0, Cols - 1);
        _pendingWrap = saved.PendingWrap && _col == Cols - 1;
        _style = saved.Style;
        _charsets[0] = saved.G0;
        _charsets[1] = saved.G1;
        _charsets[2] = saved.G2;
        _charsets[3] = saved.G3;
        _glSet = saved.GlSet;
    }

    /// <summary>DECSTBM: sets the scroll region (0-based, inclusive) and homes the cursor; invalid regions are ignored.</summary>
    private void SetScrollRegion(int top, int bottom)
    {
        bottom = Math.Min(bottom, Rows - 1);
        if (top < 0 || top >= bottom)
        {
            return;
        }

        _buffer.ScrollTop = top;
        _buffer.ScrollBottom = bottom;
        CursorPosition(0, 0);
    }
}
