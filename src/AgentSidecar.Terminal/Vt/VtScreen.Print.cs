using System.Runtime.CompilerServices;

namespace AgentSidecar.Terminal.Vt;

/// <summary>Writing characters into cells: autowrap, wide characters, combining marks, insert mode.</summary>
public sealed partial class VtScreen
{
    private const int FirstC1 = 0x80;
    private const int FirstAfterC1 = 0xA0;
    private const int MaxCombiningLength = 32;

    /// <summary>Prints a run of printable ASCII bytes (0x20..0x7E), the hot path for plain output.</summary>
    private void PrintAscii(ReadOnlySpan<byte> text)
    {
        _changed = true;
        if (InsertMode || !AutoWrap || _charsets[_glSet] != VtCharset.Ascii)
        {
            foreach (byte value in text)
            {
                Print(value);
            }

            return;
        }

        // Read once: the loop moves the cursor but never changes the width or the pen.
        int cols = Cols;
        VtStyle style = _style;
        while (!text.IsEmpty)
        {
            if (_pendingWrap)
            {
                WrapToNextLine();
            }

            VtLine line = CurrentLine;
            int col = _col;
            int count = Math.Min(cols - col, text.Length);
            ReadOnlySpan<byte> chars = text[..count];
            line.WriteAscii(col, chars, style);
            EndRun(line, col, count, style);
            _lastPrintedCodePoint = chars[^1];
            text = text[count..];
        }
    }

    /// <summary>
    /// After a run of narrow characters was written into cells [col, col + count) of the cursor's
    /// line: removes wide characters cut in half at either end and moves the cursor past the run
    /// (onto the last column with a wrap pending when it reached the right edge).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EndRun(VtLine line, int col, int count, VtStyle style)
    {
        CellWrites += count;
        int end = col + count;
        line.RepairWideBoundary(col, style);
        line.RepairWideBoundary(end, style);
        if (end >= Cols)
        {
            _col = Cols - 1;
            _pendingWrap = true;
        }
        else
        {
            _col = end;
        }
    }

    /// <summary>Prints one code point (already decoded, never a C0 control).</summary>
    private void Print(int codePoint)
    {
        _changed = true;
        if (codePoint < FirstC1)
        {
            codePoint = VtCharsetMap.Map(_charsets[_glSet], codePoint);
        }
        else if (codePoint < FirstAfterC1)
        {
            // C1 controls arriving as UTF-8 are not acted on (8-bit controls are off in UTF-8 mode).
            return;
        }

        int width = CharWidth.Of(codePoint);
        if (width == CharWidth.Zero)
        {
            AttachCombining(codePoint);
            return;
        }

        if (_pendingWrap && AutoWrap)
        {
            WrapToNextLine();
        }

        if (width == CharWidth.Wide && _col == Cols - 1)
        {
            if (!AutoWrap || Cols < CharWidth.Wide)
            {
                // A wide character cannot fit in the last column; xterm drops it, leaving the
                // cursor on the last column.
                _pendingWrap = false;
                return;
            }

            // Leave the last column blank (in the pen's style, as xterm.js does) and continue on the next line.
            CurrentLine.Fill(_col, Cols, _style);
            WrapToNextLine();
        }

        VtLine line = CurrentLine;
        if (InsertMode)
        {
            // Insert mode opens the gap with the pen's style, as xterm.js does.
            ShiftRight(line, _col, width, _style);
        }

        line.Cells[_col] = new VtCell(codePoint, _style);
        CellWrites += width;
        if (width == CharWidth.Wide)
        {
            line.Cells[_col + 1] = VtCell.WideTail(_style);
        }

        line.RepairWideBoundary(_col, _style);
        line.RepairWideBoundary(_col + width, _style);
        _lastPrintedCodePoint = codePoint;

        int next = _col + width;
        if (next >= Cols)
        {
            // The cursor stays on the last column with a wrap pending. With autowrap off the flag is
            // kept too (as xterm.js does): the next character then overwrites the last column, and
            // turning autowrap back on makes it wrap.
            _col = Cols - 1;
            _pendingWrap = true;
        }
        else
        {
            _col = next;
            _pendingWrap = false;
        }
    }

    /// <summary>Adds a zero-width character to the character just printed.</summary>
    private void AttachCombining(int codePoint)
    {
        int col = _pendingWrap ? _col : _col - 1;
        if (col < 0)
        {
            return;
        }

        VtCell[] cells = CurrentLine.Cells;
        if (cells[col].IsWideTail && col > 0)
        {
            col--;
        }

        VtCell target = cells[col];
        if (target.CodePoint <= VtCell.BlankCodePoint)
        {
            return;
        }

        string mark = char.ConvertFromUtf32(codePoint);
        string? existing = target.Combining;
        string combined = existing is null ? mark : existing + mark;
        if (combined.Length <= MaxCombiningLength)
        {
            // Unchanged (the mark dropped) if the combination is new and the shared table is full.
            cells[col] = target.WithCombining(combined);
        }
    }

    /// <summary>Autowrap: mark the line as continued and move to the start of the next one.</summary>
    private void WrapToNextLine()
    {
        CurrentLine.Wrapped = true;
        _pendingWrap = false;
        _col = 0;
        Index();
    }

    /// <summary>DECALN: fills the screen with 'E' (the VT100 alignment pattern).</summary>
    private void ScreenAlignmentTest()
    {
        var cell = new VtCell('E', VtStyle.Default);
        foreach (VtLine line in _buffer.Lines)
        {
            line.Reset(Cols, VtStyle.Default);
            Array.Fill(line.Cells, cell);
        }

        _buffer.ResetMargins();
        _row = 0;
        _col = 0;
        _pendingWrap = false;
    }
}
