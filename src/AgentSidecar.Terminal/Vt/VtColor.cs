namespace AgentSidecar.Terminal.Vt;

/// <summary>How a <see cref="VtColor"/> is specified.</summary>
public enum VtColorKind : byte
{
    /// <summary>The terminal's default foreground or background.</summary>
    Default = 0,

    /// <summary>An entry of the 256-colour palette (0-7 normal, 8-15 bright, 16-255 cube and greys).</summary>
    Indexed = 1,

    /// <summary>A 24-bit colour.</summary>
    Rgb = 2,
}

/// <summary>
/// A cell colour packed into one <see cref="uint"/> (kind in the top byte, value in the low 24 bits)
/// so that cells stay small and styles compare with a single integer comparison.
/// </summary>
public readonly record struct VtColor
{
    private const int KindShift = 24;
    private const int RedShift = 16;
    private const int GreenShift = 8;
    private const uint ByteMask = 0xFF;

    private readonly uint _packed;

    internal VtColor(uint packed) => _packed = packed;

    /// <summary>The default colour (SGR 39 / 49).</summary>
    public static VtColor Default => default;

    /// <summary>How the colour is specified.</summary>
    public VtColorKind Kind => (VtColorKind)(_packed >> KindShift);

    /// <summary>The palette index (0-255) when <see cref="Kind"/> is <see cref="VtColorKind.Indexed"/>.</summary>
    public byte Index => (byte)(_packed & ByteMask);

    /// <summary>Red component when <see cref="Kind"/> is <see cref="VtColorKind.Rgb"/>.</summary>
    public byte R => (byte)((_packed >> RedShift) & ByteMask);

    /// <summary>Green component when <see cref="Kind"/> is <see cref="VtColorKind.Rgb"/>.</summary>
    public byte G => (byte)((_packed >> GreenShift) & ByteMask);

    /// <summary>Blue component when <see cref="Kind"/> is <see cref="VtColorKind.Rgb"/>.</summary>
    public byte B => (byte)(_packed & ByteMask);

    /// <summary>The packed form (what <see cref="VtCell"/> stores).</summary>
    internal uint Packed => _packed;

    /// <summary>True for the default colour.</summary>
    public bool IsDefault => _packed == 0;

    /// <summary>A palette colour.</summary>
    public static VtColor FromIndex(byte index) => new(((uint)VtColorKind.Indexed << KindShift) | index);

    /// <summary>A 24-bit colour.</summary>
    public static VtColor FromRgb(byte r, byte g, byte b) =>
        new(((uint)VtColorKind.Rgb << KindShift) | ((uint)r << RedShift) | ((uint)g << GreenShift) | b);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        VtColorKind.Indexed => $"Indexed({Index})",
        VtColorKind.Rgb => $"Rgb({R},{G},{B})",
        _ => "Default",
    };
}
