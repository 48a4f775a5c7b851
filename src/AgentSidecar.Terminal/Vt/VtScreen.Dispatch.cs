namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// Routing of C0 controls, ESC sequences and CSI sequences to the operations. Sequences with a
/// private marker or intermediate we do not know are dropped: for example CSI &gt; 4 m (xterm
/// modifyOtherKeys) must not be taken for SGR, and CSI &lt; u (kitty keyboard pop) must not be
/// taken for "restore cursor".
/// </summary>
public sealed partial class VtScreen
{
    private const byte DecPrivateMarker = (byte)'?';
    private const byte GreaterThanMarker = (byte)'>';

    private void Execute(byte control)
    {
        // REP repeats only a character printed right before it; any control or sequence in between cancels it.
        _lastPrintedCodePoint = NoLastPrinted;
        switch (control)
        {
            case ControlChars.Bel:
                Bell?.Invoke();
                return;
            case ControlChars.Bs:
                Backspace();
                break;
            case ControlChars.Ht:
                TabForward(1);
                break;
            case ControlChars.Lf or ControlChars.Vt or ControlChars.Ff:
                LineFeed();
                break;
            case ControlChars.Cr:
                CarriageReturn();
                break;
            case ControlChars.So:
                _glSet = 1;
                break;
            case ControlChars.Si:
                _glSet = 0;
                break;
            default:
                // NUL and the other C0 controls do nothing on an xterm.
                return;
        }

        _changed = true;
    }

    private void EscDispatch(byte final)
    {
        if (_sequenceInvalid)
        {
            return;
        }

        _changed = true;
        _lastPrintedCodePoint = NoLastPrinted;
        if (_intermediateCount == 0)
        {
            DispatchPlainEscape(final);
            return;
        }

        if (_intermediateCount != 1)
        {
            return;
        }

        switch (_intermediates)
        {
            // 94-character sets into G0..G3, and 96-character sets into G1..G3.
            case '(':
                _charsets[0] = VtCharsetMap.FromFinalByte(final);
                break;
            case ')' or '-':
                _charsets[1] = VtCharsetMap.FromFinalByte(final);
                break;
            case '*' or '.':
                _charsets[2] = VtCharsetMap.FromFinalByte(final);
                break;
            case '+' or '/':
                _charsets[3] = VtCharsetMap.FromFinalByte(final);
                break;
            case '#' when final == (byte)'8':
                ScreenAlignmentTest();
                break;
            default:
                // ESC % G (UTF-8), ESC SP F (7-bit controls) and the like need no action.
                break;
        }
    }

    private void DispatchPlainEscape(byte final)
    {
        const int LockingShift2 = 2;
        const int LockingShift3 = 3;

        switch (final)
        {
            case (byte)'7':
                SaveCursor();
                break;
            case (byte)'8':
                RestoreCursor();
                break;
            case (byte)'D':
                Index();
                break;
            case (byte)'E':
                CarriageReturn();
                Index();
                break;
            case (byte)'M':
                ReverseIndex();
                break;
            case (byte)'H':
                _tabStops[_col] = true;
                break;
            case (byte)'c':
                FullReset();
                break;
            case (byte)'=':
                ApplicationKeypad = true;
                break;
            case (byte)'>':
                ApplicationKeypad = false;
                break;
            case (byte)'n':
                _glSet = LockingShift2;
                break;
            case (byte)'o':
                _glSet = LockingShift3;
                break;
            case (byte)'Z':
                RespondPrimaryDeviceAttributes();
                break;
            default:
                // ESC \ (ST), SS2 / SS3 and unknown finals are ignored.
                break;
        }
    }

    private void CsiDispatch(byte final)
    {
        if (_sequenceInvalid)
        {
            return;
        }

        _changed = true;
        int repeatable = _lastPrintedCodePoint;
        _lastPrintedCodePoint = NoLastPrinted;
        if (_intermediateCount == 0)
        {
            switch (_privateMarker)
            {
                case 0:
                    DispatchStandardCsi(final, repeatable);
                    break;
                case DecPrivateMarker:
                    DispatchDecPrivateCsi(final);
                    break;
                case GreaterThanMarker:
                    DispatchGreaterThanCsi(final);
                    break;
                default:
                    // CSI < ... and CSI = ... (kitty keyboard protocol and others): ignored.
                    break;
            }

            return;
        }

        if (_intermediateCount != 1)
        {
            return;
        }

        switch ((_intermediates, final))
        {
            case (' ', (byte)'q') when _privateMarker == 0:
                CursorShape = Param(0, 0);
                break;
            case ('!', (byte)'p') when _privateMarker == 0:
                SoftReset();
                break;
            case ('$', (byte)'p') when _privateMarker is 0 or DecPrivateMarker:
                ReportMode(Param(0, 0), _privateMarker == DecPrivateMarker);
                break;
            default:
                break;
        }
    }

    private void DispatchStandardCsi(byte final, int repeatable)
    {
        switch (final)
        {
            case (byte)'@': InsertChars(Param(0, 1)); break;
            case (byte)'A': CursorUp(Param(0, 1)); break;
            case (byte)'B' or (byte)'e': CursorDown(Param(0, 1)); break;
            case (byte)'C' or (byte)'a': CursorForward(Param(0, 1)); break;
            case (byte)'D': CursorBackward(Param(0, 1)); break;
            case (byte)'E': CursorDown(Param(0, 1)); CarriageReturn(); break;
            case (byte)'F': CursorUp(Param(0, 1)); CarriageReturn(); break;
            case (byte)'G' or (byte)'`': SetColumn(Param(0, 1) - 1); break;
            case (byte)'H' or (byte)'f': CursorPosition(Param(0, 1) - 1, Param(1, 1) - 1); break;
            case (byte)'I': TabForward(Param(0, 1)); break;
            case (byte)'J': EraseInDisplay(Param(0, 0)); break;
            case (byte)'K': EraseInLine(Param(0, 0)); break;
            case (byte)'L': InsertLines(Param(0, 1)); break;
            case (byte)'M': DeleteLines(Param(0, 1)); break;
            case (byte)'P': DeleteChars(Param(0, 1)); break;
            case (byte)'S': ScrollUp(Param(0, 1)); break;

            // CSI T with several parameters is xterm's mouse highlight tracking, not SD.
            case (byte)'T' when _paramCount <= 1: ScrollDown(Param(0, 1)); break;
            case (byte)'X': EraseChars(Param(0, 1)); break;
            case (byte)'Z': TabBackward(Param(0, 1)); break;
            case (byte)'b': RepeatCharacter(repeatable, Param(0, 1)); break;
            case (byte)'c' when Param(0, 0) == 0: RespondPrimaryDeviceAttributes(); break;
            case (byte)'d': SetRow(Param(0, 1) - 1); break;
            case (byte)'g': ClearTabStops(Param(0, 0)); break;
            case (byte)'h': SetAnsiModes(true); break;
            case (byte)'l': SetAnsiModes(false); break;
            case (byte)'m': SelectGraphicRendition(); break;
            case (byte)'n': DeviceStatusReport(Param(0, 0), decPrivate: false); break;
            case (byte)'r': SetScrollRegion(Param(0, 1) - 1, Param(1, Rows) - 1); break;

            // With parameters CSI s is DECSLRM (left/right margins), which is not supported.
            case (byte)'s' when _paramCount == 0: SaveCursor(); break;
            case (byte)'t': WindowOperation(Param(0, 0)); break;
            case (byte)'u' when _paramCount == 0: RestoreCursor(); break;
            default: break;
        }
    }

    private void DispatchDecPrivateCsi(byte final)
    {
        switch (final)
        {
            case (byte)'h': SetDecModes(true); break;
            case (byte)'l': SetDecModes(false); break;

            // DECSED / DECSEL: no protected cells here, so the same as ED / EL.
            case (byte)'J': EraseInDisplay(Param(0, 0)); break;
            case (byte)'K': EraseInLine(Param(0, 0)); break;
            case (byte)'n': DeviceStatusReport(Param(0, 0), decPrivate: true); break;
            default: break;
        }
    }

    private void DispatchGreaterThanCsi(byte final)
    {
        switch (final)
        {
            case (byte)'c' when Param(0, 0) == 0: RespondSecondaryDeviceAttributes(); break;
            case (byte)'q' when Param(0, 0) == 0: RespondTerminalVersion(); break;
            default: break;
        }
    }
}
