namespace AgentSidecar.Terminal.Vt;

/// <summary>SGR (CSI Pm m): attributes and 16 / 256 / 24-bit colours in ';' and ':' forms.</summary>
public sealed partial class VtScreen
{
    private const int BasicColorCount = 8;
    private const int BrightColorOffset = 8;
    private const int MaxColorComponent = 255;
    private const int ExtendedColorIndexed = 5;
    private const int ExtendedColorRgb = 2;
    private const int RgbComponentCount = 3;

    private void SelectGraphicRendition()
    {
        if (_paramCount == 0)
        {
            _style = VtStyle.Default;
            return;
        }

        VtColor foreground = _style.Foreground;
        VtColor background = _style.Background;
        VtAttributes attributes = _style.Attributes;
        int index = 0;
        while (index < _paramCount)
        {
            int code = _params[index];
            int subCount = CountSubParams(index);
            int consumed = 0;
            switch (code)
            {
                case SgrCode.Reset:
                    foreground = VtColor.Default;
                    background = VtColor.Default;
                    attributes = VtAttributes.None;
                    break;
                case SgrCode.Bold: attributes |= VtAttributes.Bold; break;
                case SgrCode.Dim: attributes |= VtAttributes.Dim; break;
                case SgrCode.Italic: attributes |= VtAttributes.Italic; break;
                case SgrCode.Underline:
                    // 4:0 is "no underline"; 4:1..4:5 are underline styles, all shown as underline.
                    bool underlineOff = subCount > 0 && _params[index + 1] == 0;
                    attributes = underlineOff ? attributes & ~VtAttributes.Underline : attributes | VtAttributes.Underline;
                    break;
                case SgrCode.SlowBlink or SgrCode.RapidBlink: attributes |= VtAttributes.Blink; break;
                case SgrCode.Inverse: attributes |= VtAttributes.Inverse; break;
                case SgrCode.Hidden: attributes |= VtAttributes.Hidden; break;
                case SgrCode.Strikethrough: attributes |= VtAttributes.Strikethrough; break;
                case SgrCode.DoubleUnderline: attributes |= VtAttributes.Underline; break;
                case SgrCode.NormalIntensity: attributes &= ~(VtAttributes.Bold | VtAttributes.Dim); break;
                case SgrCode.NotItalic: attributes &= ~VtAttributes.Italic; break;
                case SgrCode.NotUnderlined: attributes &= ~VtAttributes.Underline; break;
                case SgrCode.NotBlinking: attributes &= ~VtAttributes.Blink; break;
                case SgrCode.NotInverse: attributes &= ~VtAttributes.Inverse; break;
                case SgrCode.NotHidden: attributes &= ~VtAttributes.Hidden; break;
                case SgrCode.NotStrikethrough: attributes &= ~VtAttributes.Strikethrough; break;
                case >= SgrCode.ForegroundFirst and <= SgrCode.ForegroundLast:
                    foreground = VtColor.FromIndex((byte)(code - SgrCode.ForegroundFirst));
                    break;
                case SgrCode.ForegroundExtended:
                    consumed = ParseExtendedColor(index, subCount, ref foreground);
                    break;
                case SgrCode.ForegroundDefault: foreground = VtColor.Default; break;
                case >= SgrCode.BackgroundFirst and <= SgrCode.BackgroundLast:
                    background = VtColor.FromIndex((byte)(code - SgrCode.BackgroundFirst));
                    break;
                case SgrCode.BackgroundExtended:
                    consumed = ParseExtendedColor(index, subCount, ref background);
                    break;
                case SgrCode.BackgroundDefault: background = VtColor.Default; break;
                case SgrCode.Overline: attributes |= VtAttributes.Overline; break;
                case SgrCode.NotOverline: attributes &= ~VtAttributes.Overline; break;
                case SgrCode.UnderlineColor:
                    // Underline colour is parsed (to skip its arguments) but not kept.
                    VtColor ignored = default;
                    consumed = ParseExtendedColor(index, subCount, ref ignored);
                    break;
                case >= SgrCode.BrightForegroundFirst and <= SgrCode.BrightForegroundLast:
                    foreground = VtColor.FromIndex((byte)(code - SgrCode.BrightForegroundFirst + BrightColorOffset));
                    break;
                case >= SgrCode.BrightBackgroundFirst and <= SgrCode.BrightBackgroundLast:
                    background = VtColor.FromIndex((byte)(code - SgrCode.BrightBackgroundFirst + BrightColorOffset));
                    break;
                default:
                    // Fonts, frames, ideogram attributes and unknown codes are ignored.
                    break;
            }

            index += 1 + Math.Max(subCount, consumed);
        }

        _style = new VtStyle(foreground, background, attributes);
    }

    private int CountSubParams(int index)
    {
        int count = 0;
        while (IsSubParam(index + 1 + count))
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// Parses the arguments of 38 / 48 / 58 at <paramref name="index"/>. Colon form (sub-parameters):
    /// 38:5:n, 38:2:r:g:b or 38:2:colourspace:r:g:b. Semicolon form: 38;5;n or 38;2;r;g;b.
    /// Returns how many following ';' parameters were used.
    /// </summary>
    private int ParseExtendedColor(int index, int subCount, ref VtColor color)
    {
        if (subCount > 0)
        {
            int kind = _params[index + 1];
            if (kind == ExtendedColorIndexed && subCount >= 2)
            {
                SetIndexed(_params[index + 2], ref color);
            }
            else if (kind == ExtendedColorRgb && subCount >= RgbComponentCount + 1)
            {
                // With four or more values after the 2 the first one is the colour space id.
                int first = subCount > RgbComponentCount + 1 ? index + 3 : index + 2;
                SetRgb(first, ref color);
            }

            return 0;
        }

        int available = _paramCount - index - 1;
        if (available < 1)
        {
            return 0;
        }

        switch (_params[index + 1])
        {
            case ExtendedColorIndexed when available >= 2:
                SetIndexed(_params[index + 2], ref color);
                return 2;
            case ExtendedColorRgb when available >= RgbComponentCount + 1:
                SetRgb(index + 2, ref color);
                return RgbComponentCount + 1;
            default:
                // Malformed: consume the rest, since the following numbers are not SGR codes.
                return available;
        }
    }

    private static void SetIndexed(int value, ref VtColor color)
    {
        if (value <= MaxColorComponent)
        {
            color = VtColor.FromIndex((byte)value);
        }
    }

    private void SetRgb(int first, ref VtColor color)
    {
        int r = _params[first];
        int g = _params[first + 1];
        int b = _params[first + 2];
        if (r <= MaxColorComponent && g <= MaxColorComponent && b <= MaxColorComponent)
        {
            color = VtColor.FromRgb((byte)r, (byte)g, (byte)b);
        }
    }

    /// <summary>SGR parameter values (ECMA-48 and xterm).</summary>
    private static class SgrCode
    {
        public const int Reset = 0;
        public const int Bold = 1;
        public const int Dim = 2;
        public const int Italic = 3;
        public const int Underline = 4;
        public const int SlowBlink = 5;
        public const int RapidBlink = 6;
        public const int Inverse = 7;
        public const int Hidden = 8;
        public const int Strikethrough = 9;
        public const int DoubleUnderline = 21;
        public const int NormalIntensity = 22;
        public const int NotItalic = 23;
        public const int NotUnderlined = 24;
        public const int NotBlinking = 25;
        public const int NotInverse = 27;
        public const int NotHidden = 28;
        public const int NotStrikethrough = 29;
        public const int ForegroundFirst = 30;
        public const int ForegroundLast = ForegroundFirst + BasicColorCount - 1;
        public const int ForegroundExtended = 38;
        public const int ForegroundDefault = 39;
        public const int BackgroundFirst = 40;
        public const int BackgroundLast = BackgroundFirst + BasicColorCount - 1;
        public const int BackgroundExtended = 48;
        public const int BackgroundDefault = 49;
        public const int Overline = 53;
        public const int NotOverline = 55;
        public const int UnderlineColor = 58;
        public const int BrightForegroundFirst = 90;
        public const int BrightForegroundLast = BrightForegroundFirst + BasicColorCount - 1;
        public const int BrightBackgroundFirst = 100;
        public const int BrightBackgroundLast = BrightBackgroundFirst + BasicColorCount - 1;
    }
}
