using System.Globalization;
using System.Text;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// Rendering the state back to an ANSI stream that makes a fresh (or reset) xterm-compatible
/// terminal of the same size look and behave like this one: content with attributes, the main
/// screen under an active alternate screen, scroll margins, input-affecting modes, cursor (including
/// the pending-wrap state) and the pen, so the program's next output lands exactly as it would have.
/// </summary>
public sealed partial class VtScreen
{
    private const char Esc = '\u001b';
    private const string ResetTerminal = "\u001bc";
    private const string BeginSynchronizedUpdate = Csi + "?2026h";
    private const string EndSynchronizedUpdate = Csi + "?2026l";
    private const string EnterAlternateScreen = Csi + "?1049h";
    private const string CursorHome = Csi + "H";
    private const string EraseScreen = Csi + "2J";
    private const string SaveCursorSequence = "\u001b7";
    private const string NewLine = "\r\n";
    private const char SgrFinal = 'm';
    private const int FirstBrightIndex = 8;
    private const int FirstExtendedIndex = 16;
    private const int SgrForegroundBase = 30;
    private const int SgrBackgroundBase = 40;
    private const int SgrBrightForegroundBase = 90;
    private const int SgrBrightBackgroundBase = 100;

    /// <summary>
    /// An ANSI string that redraws this screen on a terminal of the same size: it resets the
    /// terminal (ESC c), draws the content with colours and attributes, restores the modes that
    /// change what the terminal sends or how it draws (alternate screen, margins, origin, autowrap,
    /// insert, cursor keys, keypad, mouse, focus, bracketed paste, cursor visibility and shape,
    /// character sets), positions the cursor and sets the pen.
    /// </summary>
    /// <param name="includeScrollback">Also write the scrollback lines first, so they land in the terminal's own scrollback.</param>
    public string RenderAnsi(bool includeScrollback = false)
    {
        var output = new StringBuilder();
        output.Append(ResetTerminal).Append(BeginSynchronizedUpdate);
        if (Title.Length > 0)
        {
            output.Append(Esc).Append("]2;").Append(Title).Append('\a');
        }

        VtStyle emitted = VtStyle.Default;
        var mainLines = new List<VtLine>(Rows + (includeScrollback ? _scrollback.Count : 0));
        if (includeScrollback)
        {
            for (int i = 0; i < _scrollback.Count; i++)
            {
                mainLines.Add(_scrollback.GetLine(i));
            }
        }

        // Written one after the other, the scrollback lines scroll off the top into the terminal's own history.
        mainLines.AddRange(_mainBuffer.Lines);
        AppendLines(output, mainLines, ref emitted);
        if (AlternateScreen)
        {
            // 1049h saves the cursor, so it also carries the main screen's saved cursor across.
            AppendSavedCursorState(output, _mainBuffer.SavedCursor ?? default);
            output.Append(EnterAlternateScreen);

            // The switch cleared the alternate screen with the saved pen's background: clear it plainly.
            emitted = VtStyle.Default;
            AppendSgr(output, emitted);
            output.Append(EraseScreen).Append(CursorHome);
            AppendLines(output, _altBuffer.Lines, ref emitted);
        }
        else if (_mainBuffer.SavedCursor is { } mainSaved)
        {
            AppendSavedCursorState(output, mainSaved);
            output.Append(SaveCursorSequence);
        }

        if (AlternateScreen && _altBuffer.SavedCursor is { } altSaved)
        {
            AppendSavedCursorState(output, altSaved);
            output.Append(SaveCursorSequence);
        }

        AppendSgr(output, VtStyle.Default);
        AppendModesAndCursor(output);
        AppendSgr(output, _style);
        output.Append(EndSynchronizedUpdate);
        return output.ToString();
    }

    private void AppendLines(StringBuilder output, IReadOnlyList<VtLine> lines, ref VtStyle emitted)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            // A wrapped line is written up to the last column so that the terminal wraps it itself and
            // marks the continuation (selection and reflow then work on the client). That only works
            // when the next line has something to print; otherwise a plain line break is used.
            bool continues = lines[i].Wrapped
                && i < lines.Count - 1
                && lines[i].Cells.Length >= Cols
                && VisibleLength(lines[i + 1].Cells, Math.Min(lines[i + 1].Cells.Length, Cols)) > 0;
            AppendLine(output, lines[i], ref emitted, continues);
            if (i < lines.Count - 1 && !continues)
            {
                output.Append(NewLine);
            }
        }
    }

    private void AppendLine(StringBuilder output, VtLine line, ref VtStyle emitted, bool continues)
    {
        VtCell[] cells = line.Cells;
        int width = Math.Min(cells.Length, Cols);
        int end = continues ? width : VisibleLength(cells, width);
        for (int col = 0; col < end; col++)
        {
            VtCell cell = cells[col];
            bool wideLead = cell.Width == CharWidth.Wide;
            if (cell.IsWideTail && col > 0 && cells[col - 1].Width == CharWidth.Wide)
            {
                continue;
            }

            if (wideLead && col + 1 >= width)
            {
                // Would not fit on the client; draw a blank instead of letting it wrap.
                cell = VtCell.Blank(cell.Style);
            }

            if (cell.Style != emitted)
            {
                AppendSgr(output, cell.Style);
                emitted = cell.Style;
            }

            if (cell.IsWideTail)
            {
                output.Append(' ');
            }
            else
            {
                cell.AppendTo(output);
            }
        }
    }

    /// <summary>Cells up to the last one that shows anything (text, or a background / inverse blank).</summary>
    private static int VisibleLength(VtCell[] cells, int width)
    {
        int end = width;
        while (end > 0 && cells[end - 1].IsBlank && !cells[end - 1].Style.IsVisibleWhenBlank)
        {
            end--;
        }

        return end;
    }

    private void AppendModesAndCursor(StringBuilder output)
    {
        if (_buffer.ScrollTop != 0 || _buffer.ScrollBottom != Rows - 1)
        {
            AppendCsi(output, $"{_buffer.ScrollTop + 1};{_buffer.ScrollBottom + 1}r");
        }

        if (OriginMode)
        {
            AppendCsi(output, $"?{ModeOrigin}h");
        }

        AppendCursor(output);

        AppendDecModeIf(output, !AutoWrap, ModeAutoWrap, enable: false);
        AppendDecModeIf(output, ApplicationCursorKeys, ModeApplicationCursorKeys, enable: true);
        AppendDecModeIf(output, FocusReporting, ModeFocusEvents, enable: true);
        AppendDecModeIf(output, MouseTrackingMode != 0, MouseTrackingMode, enable: true);
        AppendDecModeIf(output, MouseEncodingMode != 0, MouseEncodingMode, enable: true);
        AppendDecModeIf(output, BracketedPaste, ModeBracketedPaste, enable: true);
        AppendDecModeIf(output, !CursorVisible, ModeCursorVisible, enable: false);
        if (InsertMode)
        {
            AppendCsi(output, $"{ModeInsert}h");
        }

        if (NewLineMode)
        {
            AppendCsi(output, $"{ModeNewLine}h");
        }

        if (ApplicationKeypad)
        {
            output.Append(Esc).Append('=');
        }

        if (CursorShape != 0)
        {
            AppendCsi(output, $"{CursorShape} q");
        }

        AppendCharsets(output);
    }

    /// <summary>Positions the cursor; a pending wrap is recreated by rewriting the glyph that ends in the last column.</summary>
    private void AppendCursor(StringBuilder output)
    {
        VtCell[] cells = CurrentLine.Cells;
        int last = Cols - 1;
        if (_pendingWrap)
        {
            int start = cells[last].IsWideTail && last > 0 ? last - 1 : last;
            AppendCursorPosition(output, _row, start);
            AppendSgr(output, cells[start].Style);
            cells[start].AppendTo(output);
            AppendSgr(output, VtStyle.Default);
            return;
        }

        AppendCursorPosition(output, _row, _col);
    }

    private void AppendCharsets(StringBuilder output)
    {
        ReadOnlySpan<char> designators = ['(', ')', '*', '+'];
        for (int slot = 0; slot < CharsetSlots; slot++)
        {
            char final = _charsets[slot] switch
            {
                VtCharset.DecSpecialGraphics => '0',
                VtCharset.UnitedKingdom => 'A',
                _ => '\0',
            };
            if (final != '\0')
            {
                output.Append(Esc).Append(designators[slot]).Append(final);
            }
        }

        if (_glSet == 1)
        {
            output.Append((char)ControlChars.So);
        }
    }

    /// <summary>
    /// Puts the cursor and pen where a DECSC saved them, just before the save is replayed (ESC 7 or
    /// 1049h). Margins and origin mode are not set yet at that point, so the position is absolute.
    /// </summary>
    private static void AppendSavedCursorState(StringBuilder output, VtSavedCursor saved)
    {
        AppendCsi(output, $"{saved.Row + 1};{saved.Col + 1}H");
        AppendSgr(output, saved.Style);
    }

    /// <summary>CUP to an absolute row, expressed relative to the top margin when origin mode is on.</summary>
    private void AppendCursorPosition(StringBuilder output, int row, int col)
    {
        int relativeRow = OriginMode ? row - _buffer.ScrollTop : row;
        AppendCsi(output, $"{Math.Max(relativeRow, 0) + 1};{col + 1}H");
    }

    private static void AppendDecModeIf(StringBuilder output, bool condition, int mode, bool enable)
    {
        if (condition)
        {
            AppendCsi(output, $"?{mode}{(enable ? 'h' : 'l')}");
        }
    }

    private static void AppendCsi(StringBuilder output, FormattableString body) =>
        output.Append(Csi).Append(body.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes the full SGR for <paramref name="style"/> (starting from a reset, so no state leaks between styles).</summary>
    private static void AppendSgr(StringBuilder output, VtStyle style)
    {
        output.Append(Csi).Append('0');
        VtAttributes attributes = style.Attributes;
        AppendFlag(output, attributes, VtAttributes.Bold, SgrCode.Bold);
        AppendFlag(output, attributes, VtAttributes.Dim, SgrCode.Dim);
        AppendFlag(output, attributes, VtAttributes.Italic, SgrCode.Italic);
        AppendFlag(output, attributes, VtAttributes.Underline, SgrCode.Underline);
        AppendFlag(output, attributes, VtAttributes.Blink, SgrCode.SlowBlink);
        AppendFlag(output, attributes, VtAttributes.Inverse, SgrCode.Inverse);
        AppendFlag(output, attributes, VtAttributes.Hidden, SgrCode.Hidden);
        AppendFlag(output, attributes, VtAttributes.Strikethrough, SgrCode.Strikethrough);
        AppendFlag(output, attributes, VtAttributes.Overline, SgrCode.Overline);
        AppendColor(output, style.Foreground, SgrForegroundBase, SgrBrightForegroundBase, SgrCode.ForegroundExtended);
        AppendColor(output, style.Background, SgrBackgroundBase, SgrBrightBackgroundBase, SgrCode.BackgroundExtended);
        output.Append(SgrFinal);
    }

    private static void AppendFlag(StringBuilder output, VtAttributes attributes, VtAttributes flag, int code)
    {
        if ((attributes & flag) != 0)
        {
            output.Append(';').Append(code.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void AppendColor(StringBuilder output, VtColor color, int basic, int bright, int extended)
    {
        switch (color.Kind)
        {
            case VtColorKind.Indexed when color.Index < FirstBrightIndex:
                output.Append(';').Append((basic + color.Index).ToString(CultureInfo.InvariantCulture));
                break;
            case VtColorKind.Indexed when color.Index < FirstExtendedIndex:
                output.Append(';').Append((bright + color.Index - FirstBrightIndex).ToString(CultureInfo.InvariantCulture));
                break;
            case VtColorKind.Indexed:
                output.Append(CultureInfo.InvariantCulture, $";{extended};{ExtendedColorIndexed};{color.Index}");
                break;
            case VtColorKind.Rgb:
                output.Append(CultureInfo.InvariantCulture, $";{extended};{ExtendedColorRgb};{color.R};{color.G};{color.B}");
                break;
            default:
                break;
        }
    }
}
