using System.Threading.Channels;

namespace AgentSidecar.Cli;

/// <summary>
/// The lines typed into the chat, read on a thread of their own: a question (an approval) waits
/// for the next line, and stops waiting when it is answered elsewhere, without losing that line.
/// </summary>
internal sealed class ConsoleLines
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = true });

    public ConsoleLines(TextReader input)
    {
        // A thread, not a pool task: it blocks in ReadLine for as long as the chat runs.
        var reader = new Thread(() => Pump(input)) { IsBackground = true, Name = "chat input" };
        reader.Start();
    }

    /// <summary>The next line, or null once the input has ended (Ctrl+D, the end of a pipe).</summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (await _lines.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_lines.Reader.TryRead(out var line))
            {
                return line;
            }
        }

        return null;
    }

    private void Pump(TextReader input)
    {
        try
        {
            while (input.ReadLine() is { } line)
            {
                _lines.Writer.TryWrite(line);
            }
        }
        catch (IOException)
        {
            // The input went away: as its end.
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }
}
