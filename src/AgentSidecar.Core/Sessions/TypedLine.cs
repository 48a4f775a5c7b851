using System.Text;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Follows what the user types into an agent's terminal, well enough to see a submitted slash
/// command (<c>/clear</c>, <c>/new</c>): printable text builds the line, backspace edits it,
/// Ctrl-C/Ctrl-U clear it, and Enter submits it. Only a line whose every character was typed is
/// reported: text inside a bracketed paste is never a command (an Enter inside it does not submit),
/// and a line changed by keys whose effect only the agent knows (arrows: history, a menu; Tab:
/// completion) is reported as unknown, for the agent's own signal to settle.
/// </summary>
internal sealed class TypedLine
{
    private const int MaxLineChars = 4096;

    private readonly StringBuilder _line = new();
    private readonly StringBuilder _csi = new();
    private State _state;
    private bool _inPaste;

    /// <summary>The line holds something other than typed characters (a paste, a recalled or completed entry).</summary>
    private bool _tainted;

    private enum State
    {
        Text,
        Escape,
        Csi,
        Ss3,
    }

    /// <summary>Feeds typed input; returns the lines submitted in it (trimmed), null for a line whose text is unknown.</summary>
    public List<string?> Feed(string input)
    {
        var submitted = new List<string?>();
        foreach (var ch in input)
        {
            switch (_state)
            {
                case State.Escape:
                    _state = ch switch { '[' => State.Csi, 'O' => State.Ss3, _ => State.Text };
                    _csi.Clear();
                    if (_state == State.Text && !_inPaste)
                    {
                        _tainted = true; // Alt+key: an editing command of the agent's
                    }

                    continue;
                case State.Csi:
                    if (ch is >= '@' and <= '~')
                    {
                        _state = State.Text;
                        OnCsi(_csi.ToString(), ch);
                    }
                    else if (_csi.Length < 16)
                    {
                        _csi.Append(ch);
                    }

                    continue;
                case State.Ss3:
                    _state = State.Text;
                    _tainted |= !_inPaste; // application-mode arrows and keypad
                    continue;
            }

            if (ch == '\u001b')
            {
                _state = State.Escape;
                continue;
            }

            if (_inPaste)
            {
                // Pasted text, Enter included, is content of the line, never a key.
                _tainted = true;
                continue;
            }

            switch (ch)
            {
                case '\r' or '\n':
                    submitted.Add(_tainted ? null : _line.ToString().Trim());
                    _line.Clear();
                    _tainted = false;
                    break;
                case '\u007f' or '\b':
                    if (_line.Length > 0)
                    {
                        _line.Length--;
                    }

                    break;
                case '\u0003' or '\u0015':
                    _line.Clear();
                    _tainted = false;
                    break;
                case '\t':
                    _tainted = true;
                    break;
                default:
                    if (!char.IsControl(ch) && _line.Length < MaxLineChars)
                    {
                        _line.Append(ch);
                    }

                    break;
            }
        }

        if (_state == State.Escape)
        {
            // A lone Esc key (terminals send a sequence in one write): the next key is a key again.
            // Agents may clear or keep their input on it, so a line with text in it is unknown now.
            _state = State.Text;
            _tainted |= !_inPaste && _line.Length > 0;
        }

        return submitted;
    }

    private void OnCsi(string parameters, char final)
    {
        if (final == '~' && parameters == "200")
        {
            _inPaste = true;
        }
        else if (final == '~' && parameters == "201")
        {
            _inPaste = false;
        }
        else if (!_inPaste && final is not ('I' or 'O'))
        {
            // Arrows, Home/End, Delete…: the line is now what the agent made of it. (Focus in/out
            // reports change nothing.)
            _tainted = true;
        }
    }
}
