using System.Text;

namespace AgentSidecar.Terminal.Vt;

/// <summary>Receives an OSC sequence: its numeric code (-1 when not numeric) and the text after the first ';'.</summary>
/// <param name="code">The OSC code, e.g. 0 / 2 (title), 8 (hyperlink), 133 (shell marks), 7501 (Codex), 7777 (Auggie).</param>
/// <param name="payload">Everything after the first ';', decoded as UTF-8 (empty when there is none).</param>
public delegate void VtOscHandler(int code, string payload);

/// <summary>
/// A VT100/xterm terminal emulator: feed it the bytes a program writes to its pseudo-terminal and
/// read back the screen (text, attributes, cursor, modes) or an ANSI redraw of it.
/// </summary>
/// <remarks>
/// Not thread-safe: callers serialise <see cref="Feed(ReadOnlySpan{byte})"/> and the readers.
/// Events are raised synchronously from inside <see cref="Feed(ReadOnlySpan{byte})"/>; handlers
/// may read the screen but must not feed it. Never throws on any input bytes.
/// Behaviour follows xterm.js (the product's client) where terminals differ, so that the screen
/// kept here and the one a user sees stay the same; widths follow Unicode 11+ (xterm.js with its
/// Unicode 11 addon active).
/// </remarks>
public sealed partial class VtScreen
{
    /// <summary>Largest accepted width or height; bounds memory whatever a caller asks for.</summary>
    public const int MaxDimension = 2000;

    /// <summary>Default number of scrollback lines.</summary>
    public const int DefaultScrollbackLines = 1000;

    private const int DefaultTabInterval = 8;
    private const int CharsetSlots = 4;
    private const int NoLastPrinted = -1;

    private readonly VtScreenBuffer _mainBuffer;
    private readonly VtScreenBuffer _altBuffer;
    private readonly VtScrollback _scrollback;
    private readonly VtCharset[] _charsets = new VtCharset[CharsetSlots];
    private readonly StringBuilder _textBuilder = new();
    private VtScreenBuffer _buffer;
    private bool[] _tabStops;

    // Cursor and pen.
    private int _row;
    private int _col;
    private bool _pendingWrap;
    private VtStyle _style;
    private int _glSet;
    private int _lastPrintedCodePoint = NoLastPrinted;

    // Set whenever the visible state may have changed; folded into Version at the end of Feed.
    private bool _changed;

    /// <summary>
    /// Cells written or moved so far (printing, erasing, inserting, deleting, scrolling): the work
    /// the fed bytes caused, so tests can bound what one escape sequence costs without a clock.
    /// </summary>
    internal long CellWrites { get; private set; }

    /// <summary>Creates a blank screen.</summary>
    /// <param name="cols">Width in columns (clamped to 1..<see cref="MaxDimension"/>).</param>
    /// <param name="rows">Height in rows (clamped to 1..<see cref="MaxDimension"/>).</param>
    /// <param name="scrollbackLines">How many lines scrolled off the main screen are kept.</param>
    public VtScreen(int cols, int rows, int scrollbackLines = DefaultScrollbackLines)
    {
        Cols = ClampDimension(cols);
        Rows = ClampDimension(rows);
        _mainBuffer = new VtScreenBuffer(Cols, Rows);
        _altBuffer = new VtScreenBuffer(Cols, Rows);
        _buffer = _mainBuffer;
        _scrollback = new VtScrollback(scrollbackLines);
        _tabStops = CreateTabStops(Cols);
        InitParser();
    }

    /// <summary>Raised for every complete OSC sequence (after <see cref="Title"/> is updated).</summary>
    public event VtOscHandler? OscReceived;

    /// <summary>Raised on BEL outside of an OSC sequence.</summary>
    public event Action? Bell;

    /// <summary>Width in columns.</summary>
    public int Cols { get; private set; }

    /// <summary>Height in rows.</summary>
    public int Rows { get; private set; }

    /// <summary>
    /// Cursor position, 0-based and absolute (not relative to an origin-mode region). After a
    /// character was written in the last column the cursor stays there (pending wrap).
    /// </summary>
    public (int Row, int Col) Cursor => (_row, _col);

    /// <summary>True when the next printed character wraps to the next line first (DECAWM "last column flag").</summary>
    public bool PendingWrap => _pendingWrap;

    /// <summary>The pen: style given to characters printed next.</summary>
    public VtStyle CurrentStyle => _style;

    /// <summary>Window title from OSC 0 / OSC 2.</summary>
    public string Title { get; private set; } = string.Empty;

    /// <summary>
    /// Increases after a <see cref="Feed(ReadOnlySpan{byte})"/> or <see cref="Resize"/> that may have changed the
    /// screen, cursor or modes; equal values mean nothing changed in between.
    /// </summary>
    public long Version { get; private set; }

    /// <summary>True while the alternate screen (modes 47 / 1047 / 1049) is shown.</summary>
    public bool AlternateScreen => ReferenceEquals(_buffer, _altBuffer);

    /// <summary>
    /// Lines scrolled off the top of the main screen, oldest first, trailing spaces trimmed. A live
    /// view that changes with later output: copy it (e.g. ToList) to keep a snapshot.
    /// </summary>
    public IReadOnlyList<string> Scrollback => _scrollback;

    /// <summary>Scroll region (DECSTBM) of the current screen, 0-based inclusive rows.</summary>
    public (int Top, int Bottom) ScrollRegion => (_buffer.ScrollTop, _buffer.ScrollBottom);

    /// <summary>Feeds program output. Split UTF-8 and escape sequences are completed by later calls.</summary>
    public void Feed(ReadOnlySpan<byte> utf8)
    {
        RunParser(utf8);
        CommitVersion();
    }

    /// <summary>Feeds text (encoded as UTF-8); a convenience for callers holding strings.</summary>
    public void Feed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Feed(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Text of row <paramref name="row"/> of the current screen, trailing spaces trimmed.</summary>
    public string GetLine(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        _textBuilder.Clear();
        _buffer.Lines[row].AppendText(_textBuilder);
        return _textBuilder.ToString();
    }

    /// <summary>All rows of the current screen, top to bottom, trailing spaces trimmed.</summary>
    public IReadOnlyList<string> GetLines()
    {
        var lines = new string[Rows];
        for (int row = 0; row < Rows; row++)
        {
            lines[row] = GetLine(row);
        }

        return lines;
    }

    /// <summary>One cell of the current screen.</summary>
    public VtCell GetCell(int row, int col)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        ArgumentOutOfRangeException.ThrowIfNegative(col);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(col, Cols);
        return _buffer.Lines[row].Cells[col];
    }

    /// <summary>True when row <paramref name="row"/> overflowed into the next row by autowrap.</summary>
    public bool IsLineWrapped(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return _buffer.Lines[row].Wrapped;
    }

    /// <summary>Full reset, as if ESC c (RIS) was received: blank screens, no scrollback, default modes.</summary>
    public void Reset()
    {
        FullReset();
        CommitVersion();
    }

    private static int ClampDimension(int value) => Math.Clamp(value, 1, MaxDimension);

    private static bool[] CreateTabStops(int cols)
    {
        var stops = new bool[cols];
        for (int col = DefaultTabInterval; col < cols; col += DefaultTabInterval)
        {
            stops[col] = true;
        }

        return stops;
    }

    private VtLine CurrentLine => _buffer.Lines[_row];

    private VtStyle EraseStyle => _style.ToEraseStyle();

    private void CommitVersion()
    {
        if (_changed)
        {
            _changed = false;
            Version++;
        }
    }

    /// <summary>RIS: everything back to power-on state except the size and the title.</summary>
    private void FullReset()
    {
        _style = VtStyle.Default;
        _mainBuffer.Clear(Cols, VtStyle.Default);
        _altBuffer.Clear(Cols, VtStyle.Default);
        _mainBuffer.ResetMargins();
        _altBuffer.ResetMargins();
        _mainBuffer.SavedCursor = null;
        _altBuffer.SavedCursor = null;
        _buffer = _mainBuffer;
        _scrollback.Clear();
        _tabStops = CreateTabStops(Cols);
        _row = 0;
        _col = 0;
        _pendingWrap = false;
        Array.Clear(_charsets);
        _glSet = 0;
        _lastPrintedCodePoint = NoLastPrinted;
        ResetModes();
        _changed = true;
    }
}
