namespace AgentSidecar.Terminal.Vt;

/// <summary>ANSI (SM/RM) and DEC private (DECSET/DECRST) modes, alternate screen switching, soft reset.</summary>
public sealed partial class VtScreen
{
    // DEC private modes (CSI ? Pm h / l).
    private const int ModeApplicationCursorKeys = 1;
    private const int ModeOrigin = 6;
    private const int ModeAutoWrap = 7;
    private const int ModeCursorVisible = 25;
    private const int ModeAltScreenLegacy = 47;
    private const int ModeApplicationKeypad = 66;
    private const int ModeMouseX10 = 9;
    private const int ModeMouseNormal = 1000;
    private const int ModeMouseHighlight = 1001;
    private const int ModeMouseButtonEvent = 1002;
    private const int ModeMouseAnyEvent = 1003;
    private const int ModeFocusEvents = 1004;
    private const int ModeMouseUtf8 = 1005;
    private const int ModeMouseSgr = 1006;
    private const int ModeMouseUrxvt = 1015;
    private const int ModeMouseSgrPixels = 1016;
    private const int ModeAltScreen = 1047;
    private const int ModeSaveCursor = 1048;
    private const int ModeAltScreenSaveCursor = 1049;
    private const int ModeBracketedPaste = 2004;
    private const int ModeSynchronizedOutput = 2026;

    // ANSI modes (CSI Pm h / l).
    private const int ModeInsert = 4;
    private const int ModeNewLine = 20;

    /// <summary>DECAWM (mode 7): characters past the last column wrap to the next line.</summary>
    public bool AutoWrap { get; private set; } = true;

    /// <summary>DECOM (mode 6): cursor addressing is relative to the scroll region.</summary>
    public bool OriginMode { get; private set; }

    /// <summary>IRM (ANSI mode 4): printed characters push the rest of the line right.</summary>
    public bool InsertMode { get; private set; }

    /// <summary>LNM (ANSI mode 20): LF, VT and FF also return the carriage.</summary>
    public bool NewLineMode { get; private set; }

    /// <summary>DECTCEM (mode 25).</summary>
    public bool CursorVisible { get; private set; } = true;

    /// <summary>Mode 2004: the program wants pasted text wrapped in ESC[200~ / ESC[201~.</summary>
    public bool BracketedPaste { get; private set; }

    /// <summary>Mode 2026: the program is in the middle of drawing a frame; the screen may be half drawn.</summary>
    public bool SynchronizedOutput { get; private set; }

    /// <summary>DECCKM (mode 1): arrow keys should be sent as ESC O A rather than ESC [ A.</summary>
    public bool ApplicationCursorKeys { get; private set; }

    /// <summary>DECKPAM / DECNKM (ESC = / mode 66): the keypad sends application sequences.</summary>
    public bool ApplicationKeypad { get; private set; }

    /// <summary>Mode 1004: the program wants focus in/out reports.</summary>
    public bool FocusReporting { get; private set; }

    /// <summary>Mouse tracking mode in effect (9, 1000, 1001, 1002 or 1003), 0 when off. Only recorded, never acted on.</summary>
    public int MouseTrackingMode { get; private set; }

    /// <summary>Mouse report encoding in effect (1005, 1006, 1015 or 1016), 0 for the default X10 encoding.</summary>
    public int MouseEncodingMode { get; private set; }

    /// <summary>Cursor style from DECSCUSR (CSI Ps SP q); 0 is the terminal default.</summary>
    public int CursorShape { get; private set; }

    private void ResetModes()
    {
        AutoWrap = true;
        OriginMode = false;
        InsertMode = false;
        NewLineMode = false;
        CursorVisible = true;
        BracketedPaste = false;
        SynchronizedOutput = false;
        ApplicationCursorKeys = false;
        ApplicationKeypad = false;
        FocusReporting = false;
        MouseTrackingMode = 0;
        MouseEncodingMode = 0;
        CursorShape = 0;
    }

    private void SetAnsiModes(bool enable)
    {
        for (int i = 0; i < _paramCount; i++)
        {
            switch (_params[i])
            {
                case ModeInsert:
                    InsertMode = enable;
                    break;
                case ModeNewLine:
                    NewLineMode = enable;
                    break;
                default:
                    break;
            }
        }
    }

    private void SetDecModes(bool enable)
    {
        for (int i = 0; i < _paramCount; i++)
        {
            SetDecMode(_params[i], enable);
        }
    }

    private void SetDecMode(int mode, bool enable)
    {
        switch (mode)
        {
            case ModeApplicationCursorKeys:
                ApplicationCursorKeys = enable;
                break;
            case ModeOrigin:
                OriginMode = enable;
                CursorPosition(0, 0);
                break;
            case ModeAutoWrap:
                AutoWrap = enable;
                break;
            case ModeCursorVisible:
                CursorVisible = enable;
                break;
            case ModeApplicationKeypad:
                ApplicationKeypad = enable;
                break;
            case ModeMouseX10 or ModeMouseNormal or ModeMouseHighlight or ModeMouseButtonEvent or ModeMouseAnyEvent:
                if (enable)
                {
                    MouseTrackingMode = mode;
                }
                else if (MouseTrackingMode == mode)
                {
                    MouseTrackingMode = 0;
                }

                break;
            case ModeMouseUtf8 or ModeMouseSgr or ModeMouseUrxvt or ModeMouseSgrPixels:
                if (enable)
                {
                    MouseEncodingMode = mode;
                }
                else if (MouseEncodingMode == mode)
                {
                    MouseEncodingMode = 0;
                }

                break;
            case ModeFocusEvents:
                FocusReporting = enable;
                break;
            case ModeAltScreenLegacy:
                SwitchScreen(enable, clearAlternate: false);
                break;
            case ModeAltScreen:
                // 1047l clears the alternate screen on the way out.
                if (!enable && AlternateScreen)
                {
                    _altBuffer.Clear(Cols, EraseStyle);
                }

                SwitchScreen(enable, clearAlternate: false);
                break;
            case ModeSaveCursor:
                if (enable)
                {
                    SaveCursor();
                }
                else
                {
                    RestoreCursor();
                }

                break;
            case ModeAltScreenSaveCursor:
                EnterOrLeaveAlternateWithCursor(enable);
                break;
            case ModeBracketedPaste:
                BracketedPaste = enable;
                break;
            case ModeSynchronizedOutput:
                SynchronizedOutput = enable;
                break;
            default:
                // Unknown or unsupported modes (3, 5, 12, 45, 1034, 2031, ...) are ignored.
                break;
        }
    }

    /// <summary>
    /// 1049: save the cursor and switch to a cleared alternate screen; on reset, switch back and
    /// restore it. As in xterm.js the save / restore happen even when already on the requested
    /// screen (the save then goes to the alternate screen's slot).
    /// </summary>
    private void EnterOrLeaveAlternateWithCursor(bool enable)
    {
        if (enable)
        {
            SaveCursor();
            if (!AlternateScreen)
            {
                SwitchScreen(true, clearAlternate: true);
            }
        }
        else
        {
            SwitchScreen(false, clearAlternate: false);
            RestoreCursor();
        }
    }

    private void SwitchScreen(bool alternate, bool clearAlternate)
    {
        if (alternate)
        {
            if (clearAlternate)
            {
                _altBuffer.Clear(Cols, EraseStyle);
            }

            _buffer = _altBuffer;
        }
        else
        {
            _buffer = _mainBuffer;
        }

        // The other screen has its own margins; in origin mode the cursor must stay inside them.
        _row = ClampRow(_row);
    }

    /// <summary>DECSTR: modes, pen, margins and saved cursor to defaults; the screen content stays.</summary>
    private void SoftReset()
    {
        CursorVisible = true;
        InsertMode = false;
        OriginMode = false;
        AutoWrap = true;
        ApplicationCursorKeys = false;
        ApplicationKeypad = false;
        _style = VtStyle.Default;
        _buffer.ResetMargins();
        Array.Clear(_charsets);
        _glSet = 0;
        _buffer.SavedCursor = null;
        _pendingWrap = false;
    }
}
