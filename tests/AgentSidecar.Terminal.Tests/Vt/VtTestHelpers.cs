using System.Text;
using AgentSidecar.Terminal.Vt;

namespace AgentSidecar.Terminal.Tests.Vt;

/// <summary>Small helpers shared by the emulator tests.</summary>
internal static class VtTestHelpers
{
    public const string Esc = "\u001b";
    public const string Csi = "\u001b[";

    /// <summary>A screen fed with <paramref name="input"/>.</summary>
    public static VtScreen Screen(int cols, int rows, string input = "", int scrollback = VtScreen.DefaultScrollbackLines)
    {
        var screen = new VtScreen(cols, rows, scrollback);
        screen.Feed(input);
        return screen;
    }

    /// <summary>The screen as text: one line per row joined by '\n' with trailing empty rows removed.</summary>
    public static string Text(VtScreen screen) => string.Join('\n', screen.GetLines()).TrimEnd('\n');

    /// <summary>Feeds <paramref name="data"/> in pieces of <paramref name="chunkSize"/> bytes.</summary>
    public static void FeedInChunks(VtScreen screen, ReadOnlySpan<byte> data, int chunkSize)
    {
        for (int offset = 0; offset < data.Length; offset += chunkSize)
        {
            screen.Feed(data.Slice(offset, Math.Min(chunkSize, data.Length - offset)));
        }
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>
    /// Asserts two screens look the same: same size, cursor, text, and same style on every cell that
    /// shows something (blank cells whose style is invisible compare equal whatever their style).
    /// </summary>
    public static void AssertSameScreen(VtScreen expected, VtScreen actual)
    {
        Assert.Equal((expected.Cols, expected.Rows), (actual.Cols, actual.Rows));
        Assert.Equal(expected.GetLines(), actual.GetLines());
        Assert.Equal(expected.Cursor, actual.Cursor);
        Assert.Equal(expected.PendingWrap, actual.PendingWrap);
        for (int row = 0; row < expected.Rows; row++)
        {
            for (int col = 0; col < expected.Cols; col++)
            {
                Assert.True(
                    Normalize(expected.GetCell(row, col)) == Normalize(actual.GetCell(row, col)),
                    $"cell {row},{col}: expected {Describe(expected.GetCell(row, col))}, got {Describe(actual.GetCell(row, col))}");
            }
        }
    }

    private static (string Text, bool Tail, VtStyle Style) Normalize(VtCell cell)
    {
        string text = cell.IsWideTail ? string.Empty : cell.Text;
        bool looksBlank = text == " ";
        bool invisibleStyle = cell.Style.Background.IsDefault
            && (cell.Style.Attributes & (VtAttributes.Inverse | VtAttributes.Underline | VtAttributes.Strikethrough | VtAttributes.Overline)) == 0;
        VtStyle style = looksBlank && invisibleStyle ? VtStyle.Default : cell.Style;
        return (text, cell.IsWideTail, style);
    }

    private static string Describe(VtCell cell) => $"'{cell.Text}' tail={cell.IsWideTail} {cell.Style}";
}
