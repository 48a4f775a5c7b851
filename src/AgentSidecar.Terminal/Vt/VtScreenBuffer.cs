namespace AgentSidecar.Terminal.Vt;

/// <summary>Cursor state saved by DECSC / CSI s / mode 1048 / mode 1049.</summary>
internal readonly record struct VtSavedCursor(
    int Row,
    int Col,
    bool PendingWrap,
    VtStyle Style,
    bool OriginMode,
    VtCharset G0,
    VtCharset G1,
    VtCharset G2,
    VtCharset G3,
    int GlSet);

/// <summary>
/// One of the two screens (main or alternate). Scroll margins and the saved cursor are kept per
/// screen, as xterm.js does, so an application that sets margins on the alternate screen does not
/// leave them behind on the main one.
/// </summary>
internal sealed class VtScreenBuffer
{
    public VtScreenBuffer(int cols, int rows)
    {
        Lines = new VtLine[rows];
        for (int row = 0; row < rows; row++)
        {
            Lines[row] = new VtLine(cols);
        }

        ScrollBottom = rows - 1;
    }

    /// <summary>The rows, top to bottom.</summary>
    public VtLine[] Lines { get; set; }

    /// <summary>First row of the scroll region (DECSTBM), 0-based.</summary>
    public int ScrollTop { get; set; }

    /// <summary>Last row of the scroll region (DECSTBM), 0-based, inclusive.</summary>
    public int ScrollBottom { get; set; }

    /// <summary>Cursor saved by DECSC on this screen, if any.</summary>
    public VtSavedCursor? SavedCursor { get; set; }

    /// <summary>Blanks every row.</summary>
    public void Clear(int cols, VtStyle eraseStyle)
    {
        foreach (VtLine line in Lines)
        {
            line.Reset(cols, eraseStyle);
        }
    }

    /// <summary>Sets the scroll region back to the whole screen.</summary>
    public void ResetMargins()
    {
        ScrollTop = 0;
        ScrollBottom = Lines.Length - 1;
    }
}
