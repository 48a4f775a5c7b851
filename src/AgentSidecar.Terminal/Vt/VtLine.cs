using System.Runtime.CompilerServices;
using System.Text;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// One row of cells. Rows are objects (not a 2D array) so that scrolling moves references instead
/// of copying cells, and rows leaving the screen can move into the scrollback as they are.
/// </summary>
internal sealed class VtLine
{
    private const char Space = ' ';

    private string? _cachedText;

    public VtLine(int cols) => Cells = new VtCell[cols];

    /// <summary>The cells; the length is the width the line was last sized to.</summary>
    public VtCell[] Cells { get; private set; }

    /// <summary>True when text overflowed from this line into the next one by autowrap.</summary>
    public bool Wrapped { get; set; }

    /// <summary>
    /// Text cached for lines that no longer change (scrollback lines). Never set while the line
    /// is on screen, so screen writes do not need to invalidate it.
    /// </summary>
    public string GetFrozenText() => _cachedText ??= ToText();

    /// <summary>Blanks the line with <paramref name="eraseStyle"/> and gives it <paramref name="cols"/> cells.</summary>
    public void Reset(int cols, VtStyle eraseStyle)
    {
        if (Cells.Length != cols)
        {
            Cells = new VtCell[cols];
        }

        // A whole line cuts no wide character in half, so no repair as in Fill. With VtCell free of
        // references this is a vectorized fill (the per-line cost of scrolling).
        Array.Fill(Cells, VtCell.Blank(eraseStyle));
        Wrapped = false;
        _cachedText = null;
    }

    /// <summary>Makes this line a copy of <paramref name="source"/>: its cells and its wrap flag.</summary>
    public void CopyFrom(VtLine source)
    {
        if (Cells.Length != source.Cells.Length)
        {
            Cells = new VtCell[source.Cells.Length];
        }

        source.Cells.CopyTo(Cells, 0);
        Wrapped = source.Wrapped;
        _cachedText = null;
    }

    /// <summary>Blanks cells [from, to), repairing wide characters cut in half by the range ends.</summary>
    public void Fill(int from, int to, VtStyle eraseStyle)
    {
        if (from >= to)
        {
            return;
        }

        VtCell blank = VtCell.Blank(eraseStyle);
        Array.Fill(Cells, blank, from, to - from);
        RepairWideBoundary(from, eraseStyle);
        RepairWideBoundary(to, eraseStyle);
    }

    /// <summary>
    /// Writes printable ASCII <paramref name="chars"/> into the cells from <paramref name="col"/> on,
    /// with <paramref name="style"/>. Wide characters cut by the run's ends are left to the caller.
    /// </summary>
    /// <remarks>
    /// Problem: inlined into its callers (PrintAscii, itself inlined up into the parser's loop) the
    /// JIT sometimes ran out of inlining budget and called the VtCell constructor for every cell:
    /// plain lines fed after a flood ran 3x slower than fed alone. Solution: a method of its own,
    /// compiled alone, where the cells are always built in registers (one call per run of text).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void WriteAscii(int col, ReadOnlySpan<byte> chars, VtStyle style)
    {
        Span<VtCell> run = Cells.AsSpan(col, chars.Length);
        for (int i = 0; i < run.Length; i++)
        {
            run[i] = new VtCell(chars[i], style);
        }
    }

    /// <summary>
    /// Makes sure the character boundary at <paramref name="col"/> does not split a wide character:
    /// an orphaned tail at <paramref name="col"/> or a lead at <paramref name="col"/> - 1 whose tail
    /// was overwritten becomes a blank with <paramref name="blankStyle"/>, the way xterm.js removes
    /// half-overwritten wide characters (with the pen when printing, the erase style when erasing).
    /// </summary>
    public void RepairWideBoundary(int col, VtStyle blankStyle)
    {
        if (col <= 0 || col > Cells.Length)
        {
            return;
        }

        bool leadBefore = Cells[col - 1].Width == CharWidth.Wide;
        bool tailHere = col < Cells.Length && Cells[col].IsWideTail;
        if (leadBefore && !tailHere)
        {
            Cells[col - 1] = VtCell.Blank(blankStyle);
        }
        else if (tailHere && !leadBefore)
        {
            Cells[col] = VtCell.Blank(blankStyle);
        }
    }

    /// <summary>Changes the width, cutting or padding with default blanks.</summary>
    public void Resize(int cols)
    {
        if (Cells.Length == cols)
        {
            return;
        }

        var cells = new VtCell[cols];
        Array.Copy(Cells, cells, Math.Min(cols, Cells.Length));
        Cells = cells;
        // A wide character whose tail was cut off by the new right edge is removed.
        RepairWideBoundary(cols, VtStyle.Default);

        _cachedText = null;
    }

    /// <summary>The line's text with trailing spaces removed.</summary>
    public string ToText()
    {
        var builder = new StringBuilder(Cells.Length);
        AppendText(builder);
        return builder.ToString();
    }

    /// <summary>Appends the line's text with trailing spaces removed.</summary>
    public void AppendText(StringBuilder builder)
    {
        int start = builder.Length;
        VtCell[] cells = Cells;
        for (int col = 0; col < cells.Length; col++)
        {
            VtCell cell = cells[col];
            if (cell.IsWideTail)
            {
                // The lead already produced the glyph; a tail without a lead reads as a space.
                if (col == 0 || cells[col - 1].Width != CharWidth.Wide)
                {
                    builder.Append(Space);
                }

                continue;
            }

            cell.AppendTo(builder);
        }

        int end = builder.Length;
        while (end > start && builder[end - 1] == Space)
        {
            end--;
        }

        builder.Length = end;
    }
}
