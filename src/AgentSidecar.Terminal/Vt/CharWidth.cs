using System.Globalization;

namespace AgentSidecar.Terminal.Vt;

/// <summary>
/// Column width of a code point, as terminals (xterm.js in particular, which the product's clients
/// use) compute it: combining marks and format characters take no column, East Asian Wide/Fullwidth
/// characters and emoji presentation characters take two, everything else one. The agents lay out
/// their screens with the same rules, so getting this wrong shifts every cell after the character.
/// </summary>
internal static class CharWidth
{
    /// <summary>Width of characters that draw on top of the previous cell.</summary>
    public const int Zero = 0;

    /// <summary>Width of most characters.</summary>
    public const int Narrow = 1;

    /// <summary>Width of CJK and emoji characters.</summary>
    public const int Wide = 2;

    /// <summary>Everything printable below the combining diacritics block (U+0300) is one column.</summary>
    private const int FirstCombiningDiacritic = 0x0300;

    private const int HangulJungseongFirst = 0x1160;
    private const int HangulJungseongLast = 0x11FF;

    /// <summary>Zero width space and the directional marks (U+200B..U+200F).</summary>
    private const int ZeroWidthSpace = 0x200B;
    private const int RightToLeftMark = 0x200F;

    /// <summary>
    /// Inclusive [first, last] pairs of double-width code points, sorted. Derived from Unicode 15
    /// EastAsianWidth W/F plus Emoji_Presentation, the same data xterm.js's Unicode 11+ provider uses.
    /// </summary>
    private static ReadOnlySpan<int> WideRanges =>
    [
        0x1100, 0x115F, 0x231A, 0x231B, 0x2329, 0x232A, 0x23E9, 0x23EC, 0x23F0, 0x23F0, 0x23F3, 0x23F3,
        0x25FD, 0x25FE, 0x2614, 0x2615, 0x2648, 0x2653, 0x267F, 0x267F, 0x2693, 0x2693, 0x26A1, 0x26A1,
        0x26AA, 0x26AB, 0x26BD, 0x26BE, 0x26C4, 0x26C5, 0x26CE, 0x26CE, 0x26D4, 0x26D4, 0x26EA, 0x26EA,
        0x26F2, 0x26F3, 0x26F5, 0x26F5, 0x26FA, 0x26FA, 0x26FD, 0x26FD, 0x2705, 0x2705, 0x270A, 0x270B,
        0x2728, 0x2728, 0x274C, 0x274C, 0x274E, 0x274E, 0x2753, 0x2755, 0x2757, 0x2757, 0x2795, 0x2797,
        0x27B0, 0x27B0, 0x27BF, 0x27BF, 0x2B1B, 0x2B1C, 0x2B50, 0x2B50, 0x2B55, 0x2B55, 0x2E80, 0x303E,
        0x3041, 0x33FF, 0x3400, 0x4DBF, 0x4E00, 0x9FFF, 0xA000, 0xA4CF, 0xA960, 0xA97F, 0xAC00, 0xD7A3,
        0xF900, 0xFAFF, 0xFE10, 0xFE19, 0xFE30, 0xFE6F, 0xFF00, 0xFF60, 0xFFE0, 0xFFE6,
        0x16FE0, 0x16FE4, 0x16FF0, 0x16FF1, 0x17000, 0x18CD5, 0x18D00, 0x18D08, 0x1AFF0, 0x1B2FB,
        0x1F004, 0x1F004, 0x1F0CF, 0x1F0CF, 0x1F18E, 0x1F18E, 0x1F191, 0x1F19A, 0x1F200, 0x1F202,
        0x1F210, 0x1F23B, 0x1F240, 0x1F248, 0x1F250, 0x1F251, 0x1F260, 0x1F265, 0x1F300, 0x1F320,
        0x1F32D, 0x1F335, 0x1F337, 0x1F37C, 0x1F37E, 0x1F393, 0x1F3A0, 0x1F3CA, 0x1F3CF, 0x1F3D3,
        0x1F3E0, 0x1F3F0, 0x1F3F4, 0x1F3F4, 0x1F3F8, 0x1F43E, 0x1F440, 0x1F440, 0x1F442, 0x1F4FC,
        0x1F4FF, 0x1F53D, 0x1F54B, 0x1F54E, 0x1F550, 0x1F567, 0x1F57A, 0x1F57A, 0x1F595, 0x1F596,
        0x1F5A4, 0x1F5A4, 0x1F5FB, 0x1F64F, 0x1F680, 0x1F6C5, 0x1F6CC, 0x1F6CC, 0x1F6D0, 0x1F6D2,
        0x1F6D5, 0x1F6D7, 0x1F6DC, 0x1F6DF, 0x1F6EB, 0x1F6EC, 0x1F6F4, 0x1F6FC, 0x1F7E0, 0x1F7EB,
        0x1F7F0, 0x1F7F0, 0x1F90C, 0x1F93A, 0x1F93C, 0x1F945, 0x1F947, 0x1F9FF, 0x1FA70, 0x1FA7C,
        0x1FA80, 0x1FA89, 0x1FA8F, 0x1FAC6, 0x1FACE, 0x1FADC, 0x1FADF, 0x1FAE9, 0x1FAF0, 0x1FAF8,
        0x20000, 0x2FFFD, 0x30000, 0x3FFFD,
    ];

    /// <summary>Columns taken by <paramref name="codePoint"/> (a printable, non-C0/C1 code point).</summary>
    public static int Of(int codePoint)
    {
        if (codePoint < FirstCombiningDiacritic)
        {
            return Narrow;
        }

        if ((codePoint >= HangulJungseongFirst && codePoint <= HangulJungseongLast)
            || (codePoint >= ZeroWidthSpace && codePoint <= RightToLeftMark))
        {
            return Zero;
        }

        UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format)
        {
            return Zero;
        }

        return IsWide(codePoint) ? Wide : Narrow;
    }

    private static bool IsWide(int codePoint)
    {
        ReadOnlySpan<int> ranges = WideRanges;
        if (codePoint < ranges[0] || codePoint > ranges[^1])
        {
            return false;
        }

        // Binary search over the range pairs.
        int low = 0;
        int high = (ranges.Length / 2) - 1;
        while (low <= high)
        {
            int mid = (low + high) >> 1;
            int first = ranges[mid * 2];
            int last = ranges[(mid * 2) + 1];
            if (codePoint < first)
            {
                high = mid - 1;
            }
            else if (codePoint > last)
            {
                low = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
