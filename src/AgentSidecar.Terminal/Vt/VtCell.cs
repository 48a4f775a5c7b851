using System.Text;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// One screen cell. A wide character occupies two cells: the character in the left one and a
/// <see cref="IsWideTail"/> placeholder in the right one. A never-written or erased cell is blank
/// (<see cref="CodePoint"/> 0) and reads as a space.
/// </summary>
public readonly struct VtCell : IEquatable<VtCell>
{
    /// <summary>Marks the right half of a wide character.</summary>
    internal const int WideTailCodePoint = -1;

    /// <summary>Code point stored for blank cells.</summary>
    internal const int BlankCodePoint = 0;

    private const char Space = ' ';

    internal VtCell(int codePoint, VtStyle style, string? combining = null)
    {
        CodePoint = codePoint;
        Style = style;
        Combining = combining;
    }

    /// <summary>The base character, 0 for a blank cell, -1 for the right half of a wide character.</summary>
    public int CodePoint { get; }

    /// <summary>Zero-width characters (combining marks, ZWJ, variation selectors) drawn on top of the base, or null.</summary>
    public string? Combining { get; }

    /// <summary>Colours and attributes.</summary>
    public VtStyle Style { get; }

    /// <summary>True for a cell nothing was written to (or that was erased).</summary>
    public bool IsBlank => CodePoint == BlankCodePoint;

    /// <summary>True for the right half of a wide character.</summary>
    public bool IsWideTail => CodePoint == WideTailCodePoint;

    /// <summary>Columns this cell's character covers: 2 for a wide character, 0 for a wide tail, else 1.</summary>
    public int Width => CodePoint switch
    {
        WideTailCodePoint => 0,
        BlankCodePoint => 1,
        _ => CharWidth.Of(CodePoint) == CharWidth.Wide ? CharWidth.Wide : 1,
    };

    /// <summary>The text of the cell: a space when blank, empty for a wide tail.</summary>
    public string Text
    {
        get
        {
            if (IsWideTail)
            {
                return string.Empty;
            }

            var builder = new StringBuilder();
            AppendTo(builder);
            return builder.ToString();
        }
    }

    internal static VtCell Blank(VtStyle eraseStyle) => new(BlankCodePoint, eraseStyle);

    internal static VtCell WideTail(VtStyle style) => new(WideTailCodePoint, style);

    internal VtCell WithCombining(string? combining) => new(CodePoint, Style, combining);

    /// <summary>Appends the visible text of a non-tail cell.</summary>
    internal void AppendTo(StringBuilder builder)
    {
        if (CodePoint <= BlankCodePoint)
        {
            builder.Append(Space);
            return;
        }

        if (CodePoint < char.MaxValue + 1)
        {
            builder.Append((char)CodePoint);
        }
        else
        {
            var rune = new Rune(CodePoint);
            Span<char> pair = stackalloc char[2];
            int length = rune.EncodeToUtf16(pair);
            builder.Append(pair[..length]);
        }

        if (Combining is not null)
        {
            builder.Append(Combining);
        }
    }

    /// <inheritdoc />
    public bool Equals(VtCell other) =>
        CodePoint == other.CodePoint && Style == other.Style && string.Equals(Combining, other.Combining, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is VtCell other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(CodePoint, Style, Combining);

    /// <summary>Equality operator.</summary>
    public static bool operator ==(VtCell left, VtCell right) => left.Equals(right);

    /// <summary>Inequality operator.</summary>
    public static bool operator !=(VtCell left, VtCell right) => !left.Equals(right);
}
