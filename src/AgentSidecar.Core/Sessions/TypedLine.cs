using System.Text;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Follows what the user types into an agent's terminal, well enough to see a submitted slash
/// command (<c>/clear</c>, <c>/new</c>): printable text builds the line, backspace edits it,
/// Ctrl-C/Ctrl-U clear it, escape sequences (arrows, bracketed-paste marks) are skipped, and
/// Enter submits it.
/// </summary>
internal sealed class TypedLine
{
    private const int MaxLineChars = 4096;

    private readonly StringBuilder _line = new();
    private int _escape;

    /// <summary>Feeds typed input; returns the lines submitted in it (trimmed).</summary>
    public List<string> Feed(string input)
    {
        var submitted = new List<string>();
        foreach (var ch in input)
        {
            if (_escape > 0)
            {
                // ESC [ … final byte (0x40–0x7E), or ESC + one char.
                if (_escape == 1)
                {
                    _escape = ch == '[' || ch == 'O' ? 2 : 0;
                }
                else if (ch is >= '@' and <= '~')
                {
                    _escape = 0;
                }

                continue;
            }

            switch (ch)
            {
                case '\u001b':
                    _escape = 1;
                    break;
                case '\r' or '\n':
                    submitted.Add(_line.ToString().Trim());
                    _line.Clear();
                    break;
                case '\u007f' or '\b':
                    if (_line.Length > 0)
                    {
                        _line.Length--;
                    }

                    break;
                case '\u0003' or '\u0015':
                    _line.Clear();
                    break;
                default:
                    if (!char.IsControl(ch) && _line.Length < MaxLineChars)
                    {
                        _line.Append(ch);
                    }

                    break;
            }
        }

        return submitted;
    }
}
