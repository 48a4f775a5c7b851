using System.Globalization;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// Answers to terminal queries (DSR, DA, DECRQM, XTVERSION, window size). They are only queued:
/// a sidecar that also has a real terminal (xterm.js) attached must not answer twice, so writing
/// them back to the program is the caller's decision.
/// </summary>
public sealed partial class VtScreen
{
    /// <summary>Older answers are dropped when nobody collects them.</summary>
    private const int MaxPendingResponses = 64;

    private const int DsrStatus = 5;
    private const int DsrCursorPosition = 6;
    private const int WindowReportTextAreaSize = 18;
    private const int ReportTextAreaSizeReply = 8;
    private const int ModeStateNotRecognized = 0;
    private const int ModeStateSet = 1;
    private const int ModeStateReset = 2;

    private const string Csi = "\u001b[";
    private const string PrimaryDeviceAttributesReply = Csi + "?1;2c";
    private const string SecondaryDeviceAttributesReply = Csi + ">0;276;0c";
    private const string TerminalVersionReply = "\u001bP>|agent-sidecar\u001b\\";
    private const string StatusOkReply = Csi + "0n";

    private readonly Queue<string> _responses = new();

    /// <summary>Number of queued answers to terminal queries.</summary>
    public int PendingResponseCount => _responses.Count;

    /// <summary>
    /// Takes the oldest queued answer a terminal would send back to the program for a query it
    /// wrote (ESC[6n cursor position, ESC[c device attributes, ...).
    /// </summary>
    public bool TryDequeueResponse(out string response) => _responses.TryDequeue(out response!);

    private void Respond(string response)
    {
        if (_responses.Count >= MaxPendingResponses)
        {
            _responses.Dequeue();
        }

        _responses.Enqueue(response);
    }

    private void RespondPrimaryDeviceAttributes() => Respond(PrimaryDeviceAttributesReply);

    private void RespondSecondaryDeviceAttributes() => Respond(SecondaryDeviceAttributesReply);

    private void RespondTerminalVersion() => Respond(TerminalVersionReply);

    private void DeviceStatusReport(int request, bool decPrivate)
    {
        if (request == DsrStatus && !decPrivate)
        {
            Respond(StatusOkReply);
        }
        else if (request == DsrCursorPosition)
        {
            int row = OriginMode ? _row - _buffer.ScrollTop : _row;
            string marker = decPrivate ? "?" : string.Empty;
            Respond(string.Create(CultureInfo.InvariantCulture, $"{Csi}{marker}{row + 1};{_col + 1}R"));
        }
    }

    private void WindowOperation(int operation)
    {
        if (operation == WindowReportTextAreaSize)
        {
            Respond(string.Create(CultureInfo.InvariantCulture, $"{Csi}{ReportTextAreaSizeReply};{Rows};{Cols}t"));
        }
    }

    /// <summary>DECRQM: reports whether a mode is set (1), reset (2) or unknown (0).</summary>
    private void ReportMode(int mode, bool decPrivate)
    {
        bool? state = decPrivate ? GetDecModeState(mode) : GetAnsiModeState(mode);
        int value = state switch
        {
            true => ModeStateSet,
            false => ModeStateReset,
            null => ModeStateNotRecognized,
        };
        string marker = decPrivate ? "?" : string.Empty;
        Respond(string.Create(CultureInfo.InvariantCulture, $"{Csi}{marker}{mode};{value}$y"));
    }

    private bool? GetAnsiModeState(int mode) => mode switch
    {
        ModeInsert => InsertMode,
        ModeNewLine => NewLineMode,
        _ => null,
    };

    private bool? GetDecModeState(int mode) => mode switch
    {
        ModeApplicationCursorKeys => ApplicationCursorKeys,
        ModeOrigin => OriginMode,
        ModeAutoWrap => AutoWrap,
        ModeCursorVisible => CursorVisible,
        ModeApplicationKeypad => ApplicationKeypad,
        ModeAltScreenLegacy or ModeAltScreen or ModeAltScreenSaveCursor => AlternateScreen,
        ModeMouseX10 or ModeMouseNormal or ModeMouseHighlight or ModeMouseButtonEvent or ModeMouseAnyEvent
            => MouseTrackingMode == mode,
        ModeMouseUtf8 or ModeMouseSgr or ModeMouseUrxvt or ModeMouseSgrPixels => MouseEncodingMode == mode,
        ModeFocusEvents => FocusReporting,
        ModeBracketedPaste => BracketedPaste,
        ModeSynchronizedOutput => SynchronizedOutput,
        _ => null,
    };
}
