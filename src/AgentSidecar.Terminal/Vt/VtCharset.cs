namespace AgentSidecar.Terminal.Vt;

/// <summary>The character sets that can be designated into G0..G3 (ESC ( F and friends).</summary>
internal enum VtCharset : byte
{
    /// <summary>US ASCII ('B'), also used for every set we do not know.</summary>
    Ascii = 0,

    /// <summary>DEC Special Graphics ('0'): line drawing, used by ncurses-style box borders.</summary>
    DecSpecialGraphics = 1,

    /// <summary>United Kingdom ('A'): like ASCII with '#' shown as a pound sign.</summary>
    UnitedKingdom = 2,
}

/// <summary>Maps 7-bit characters through a designated character set.</summary>
internal static class VtCharsetMap
{
    private const int DecGraphicsFirst = 0x5F;
    private const int DecGraphicsLast = 0x7E;
    private const int NumberSign = '#';
    private const int PoundSign = 0x00A3;

    /// <summary>
    /// DEC Special Graphics for 0x5F..0x7E (VT100 manual table 3-9), mapped to the Unicode
    /// characters xterm uses.
    /// </summary>
    private static ReadOnlySpan<char> DecGraphics =>
        "\u00A0\u25C6\u2592\u2409\u240C\u240D\u240A\u00B0\u00B1\u2424\u240B\u2518\u2510\u250C\u2514\u253C" +
        "\u23BA\u23BB\u2500\u23BC\u23BD\u251C\u2524\u2534\u252C\u2502\u2264\u2265\u03C0\u2260\u00A3\u00B7";

    /// <summary>Designation final byte to charset.</summary>
    public static VtCharset FromFinalByte(byte final) => final switch
    {
        (byte)'0' => VtCharset.DecSpecialGraphics,
        (byte)'A' => VtCharset.UnitedKingdom,
        _ => VtCharset.Ascii,
    };

    /// <summary>The code point to store for 7-bit <paramref name="codePoint"/> in <paramref name="charset"/>.</summary>
    public static int Map(VtCharset charset, int codePoint)
    {
        switch (charset)
        {
            case VtCharset.DecSpecialGraphics when codePoint is >= DecGraphicsFirst and <= DecGraphicsLast:
                return DecGraphics[codePoint - DecGraphicsFirst];
            case VtCharset.UnitedKingdom when codePoint == NumberSign:
                return PoundSign;
            default:
                return codePoint;
        }
    }
}
