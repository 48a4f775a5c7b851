using System.Text;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// One screen cell. A wide character occupies two cells: the character in the left one and a
/// <see cref="IsWideTail"/> placeholder in the right one. A never-written or erased cell is blank
/// (<see cref="CodePoint"/> 0) and reads as a space.
/// </summary>
/// <remarks>
/// Problem: with a string field (the combining marks) every cell store paid the GC write barrier
/// and <see cref="Array.Fill{T}(T[], T)"/> over cells could not vectorize; both led a profile of a
/// plain output flood (printing, and blanking the line each scroll brings in). Solution: the cell
/// holds no references (the marks are an id into <see cref="VtCombiningTable"/>) and is exactly 16
/// bytes, since Span.Fill vectorizes only element sizes that are a power of two: the style is
/// stored flat, and the id takes what was the style's padding. The colours are stored as their
/// packed <see cref="uint"/>: with the VtColor structs as fields the JIT assembled each new cell
/// in a stack slot and copied it with a store-forwarding stall (about 6 ns per cell instead of
/// under 1 ns in a microbenchmark).
/// </remarks>
public readonly struct VtCell : IEquatable<VtCell>
{
    /// <summary>Marks the right half of a wide character.</summary>
    internal const int WideTailCodePoint = -1;

    /// <summary>Code point stored for blank cells.</summary>
    internal const int BlankCodePoint = 0;

    private const char Space = ' ';

    // The layout (16 bytes, primitives only) matters: see the remarks.
    private readonly int _codePoint;
    private readonly uint _foreground;
    private readonly uint _background;
    private readonly VtAttributes _attributes;
    private readonly ushort _combiningId;

    // One constructor, not a chain: each level of inlining counts against the JIT's budget in the
    // big methods that build cells.
    internal VtCell(int codePoint, VtStyle style, ushort combiningId = VtCombiningTable.None)
    {
        _codePoint = codePoint;
        _foreground = style.Foreground.Packed;
        _background = style.Background.Packed;
        _attributes = style.Attributes;
        _combiningId = combiningId;
    }

    /// <summary>The base character, 0 for a blank cell, -1 for the right half of a wide character.</summary>
    public int CodePoint => _codePoint;

    /// <summary>Zero-width characters (combining marks, ZWJ, variation selectors) drawn on top of the base, or null.</summary>
    public string? Combining => _combiningId == VtCombiningTable.None ? null : VtCombiningTable.Shared.Get(_combiningId);

    /// <summary>Colours and attributes.</summary>
    public VtStyle Style => new(new VtColor(_foreground), new VtColor(_background), _attributes);

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

    /// <summary>
    /// This cell with <paramref name="combining"/> as its marks; unchanged (the new marks dropped)
    /// when the string is new and <see cref="VtCombiningTable.Shared"/> is full.
    /// </summary>
    internal VtCell WithCombining(string combining) =>
        VtCombiningTable.Shared.TryIntern(combining, out ushort id) ? new(_codePoint, Style, id) : this;

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

        if (_combiningId != VtCombiningTable.None)
        {
            builder.Append(Combining);
        }
    }

    /// <inheritdoc />
    /// <remarks>Equal marks have equal ids (the table interns them), so the ids are compared.</remarks>
    public bool Equals(VtCell other) =>
        _codePoint == other._codePoint
        && _foreground == other._foreground
        && _background == other._background
        && _attributes == other._attributes
        && _combiningId == other._combiningId;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is VtCell other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_codePoint, _foreground, _background, _attributes, _combiningId);

    /// <summary>Equality operator.</summary>
    public static bool operator ==(VtCell left, VtCell right) => left.Equals(right);

    /// <summary>Inequality operator.</summary>
    public static bool operator !=(VtCell left, VtCell right) => !left.Equals(right);
}
