using System.Text;

namespace AgentSidecar.Cli;

/// <summary>
/// The chat's output: streamed text, the lines of tool calls, plans and approvals, the prompt and
/// the spinner, written under one lock so they never mix mid-line. Remembers whether the cursor is
/// at the start of a line (streamed text may stop mid-line) and which prompt waits for input (shown
/// again below lines printed meanwhile). The spinner (stderr, terminals only) pauses while a prompt waits.
/// </summary>
internal sealed class ChatConsole(TextWriter output, TextWriter error, TurnItemPrinter printer)
{
    private const string SpinnerFrames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
    private const string ClearSpinner = "\r\u001b[K";

    private readonly object _lock = new();
    private bool _atLineStart = true;
    private string? _prompt;
    private bool _spinning;
    private int _frame;
    private StringBuilder? _held;

    /// <summary>Streamed text, as it comes (a spinner gives way to it), unless it is held.</summary>
    public void Text(string text)
    {
        lock (_lock)
        {
            if (_held is not null)
            {
                _held.Append(text);
                return;
            }

            WriteText(text);
        }
    }

    /// <summary>
    /// Holds streamed text back until <see cref="Release"/>. Problem: while an approval is answered,
    /// the agent's screen already shows what comes after it (the command running), and that text
    /// split the question from its outcome. Solution: the question, its answer and its outcome
    /// first, then the text that came meanwhile.
    /// </summary>
    public void Hold()
    {
        lock (_lock)
        {
            _held ??= new StringBuilder();
        }
    }

    /// <summary>Prints the text held back, from a fresh line, and streams again.</summary>
    public void Release()
    {
        lock (_lock)
        {
            if (_held is null)
            {
                return;
            }

            var text = _held.ToString();
            _held = null;
            if (text.Length > 0)
            {
                EndLine();
                WriteText(text);
            }
        }
    }

    /// <summary>Whole lines, from a fresh line; a waiting prompt is shown again below them.</summary>
    public void Lines(IReadOnlyList<string> lines)
    {
        lock (_lock)
        {
            WriteLines(lines);
        }
    }

    /// <summary>
    /// The lines the printer makes of an item (computed under the lock, in the order printed);
    /// <paramref name="endsPrompt"/>: they answer the prompt that waits (it is not shown again).
    /// </summary>
    public void Print(Func<TurnItemPrinter, IReadOnlyList<string>> lines, bool endsPrompt = false)
    {
        lock (_lock)
        {
            var add = lines(printer);
            if (endsPrompt && add.Count > 0)
            {
                _prompt = null;
            }

            WriteLines(add);
        }
    }

    /// <summary>A line on stderr (a failure that does not end the chat), from a fresh line.</summary>
    public void Warn(string line)
    {
        lock (_lock)
        {
            if (_spinning)
            {
                error.Write(ClearSpinner);
            }

            EndLine();
            error.WriteLine(line);
            ShowPromptAgain();
        }
    }

    /// <summary>Shows <paramref name="prompt"/> (no line break) until <see cref="PromptAnswered"/> or <see cref="PromptWithdrawn"/>.</summary>
    public void Prompt(string prompt)
    {
        lock (_lock)
        {
            if (_spinning)
            {
                error.Write(ClearSpinner);
            }

            EndLine();
            _prompt = prompt;
            Write(prompt);
        }
    }

    /// <summary>A line was typed at the prompt: a terminal echoed it with its Enter; a pipe echoes nothing.</summary>
    public void PromptAnswered(bool echoed)
    {
        lock (_lock)
        {
            _prompt = null;
            if (echoed)
            {
                _atLineStart = true;
            }
            else
            {
                Write(Environment.NewLine);
            }
        }
    }

    /// <summary>The prompt no longer waits (answered elsewhere): what comes next starts on a new line.</summary>
    public void PromptWithdrawn()
    {
        lock (_lock)
        {
            _prompt = null;
        }
    }

    /// <summary>Ends the current line if text stopped mid-line.</summary>
    public void EndLine()
    {
        lock (_lock)
        {
            if (!_atLineStart)
            {
                Write(Environment.NewLine);
            }
        }
    }

    public void StartSpinner()
    {
        lock (_lock)
        {
            _spinning = true;
        }
    }

    public void StopSpinner()
    {
        lock (_lock)
        {
            if (_spinning)
            {
                _spinning = false;
                error.Write(ClearSpinner);
            }
        }
    }

    /// <summary>The spinner's next frame (a timer calls this); nothing while a prompt waits for input.</summary>
    public void Spin()
    {
        lock (_lock)
        {
            if (_spinning && _prompt is null)
            {
                error.Write($"\r{SpinnerFrames[_frame++ % SpinnerFrames.Length]} working…");
            }
        }
    }

    private void WriteText(string text)
    {
        if (_spinning)
        {
            _spinning = false;
            error.Write(ClearSpinner);
        }

        printer.OtherOutput();
        Write(text);
    }

    private void WriteLines(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0)
        {
            return;
        }

        if (_spinning)
        {
            // The spinner goes on below the lines (the agent still works).
            error.Write(ClearSpinner);
        }

        EndLine();
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }

        _atLineStart = true;
        ShowPromptAgain();
    }

    private void ShowPromptAgain()
    {
        if (_prompt is not null)
        {
            Write(_prompt);
        }
    }

    private void Write(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        output.Write(text);
        output.Flush();
        _atLineStart = text[^1] == '\n';
    }
}
