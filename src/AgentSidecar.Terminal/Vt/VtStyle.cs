namespace AgentSidecar.Terminal.Vt;

/// <summary>Character rendition flags set by SGR.</summary>
[Flags]
public enum VtAttributes : ushort
{
    /// <summary>No attribute.</summary>
    None = 0,

    /// <summary>SGR 1.</summary>
    Bold = 1 << 0,

    /// <summary>SGR 2 (faint).</summary>
    Dim = 1 << 1,

    /// <summary>SGR 3.</summary>
    Italic = 1 << 2,

    /// <summary>SGR 4 and its variants (4:1..4:5, 21).</summary>
    Underline = 1 << 3,

    /// <summary>SGR 5 / 6.</summary>
    Blink = 1 << 4,

    /// <summary>SGR 7.</summary>
    Inverse = 1 << 5,

    /// <summary>SGR 8 (concealed).</summary>
    Hidden = 1 << 6,

    /// <summary>SGR 9 (crossed out).</summary>
    Strikethrough = 1 << 7,

    /// <summary>SGR 53.</summary>
    Overline = 1 << 8,
}

/// <summary>The look of one cell: colours and attributes.</summary>
/// <param name="Foreground">Foreground colour.</param>
/// <param name="Background">Background colour.</param>
/// <param name="Attributes">Rendition flags.</param>
public readonly record struct VtStyle(VtColor Foreground, VtColor Background, VtAttributes Attributes)
{
    /// <summary>Default colours, no attributes (what SGR 0 selects).</summary>
    public static VtStyle Default => default;

    /// <summary>True when this is the default style.</summary>
    public bool IsDefault => Foreground.IsDefault && Background.IsDefault && Attributes == VtAttributes.None;

    /// <summary>
    /// The style erased cells get: xterm and xterm.js keep the current background colour
    /// (background colour erase) but nothing else.
    /// </summary>
    internal VtStyle ToEraseStyle() => new(VtColor.Default, Background, VtAttributes.None);

    /// <summary>True when a blank cell with this style looks different from an untouched cell.</summary>
    internal bool IsVisibleWhenBlank =>
        !Background.IsDefault || (Attributes & (VtAttributes.Inverse | VtAttributes.Underline | VtAttributes.Strikethrough | VtAttributes.Overline)) != 0;
}
