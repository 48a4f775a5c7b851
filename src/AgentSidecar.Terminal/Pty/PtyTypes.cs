namespace AgentSidecar.Terminal.Pty;

/// <summary>What to run in a new pseudo-terminal.</summary>
public sealed record PtyStartInfo
{
    public required string Command { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    public required string WorkingDirectory { get; init; }

    /// <summary>The child's whole environment (the caller merges the sidecar's own).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public int Cols { get; init; } = 80;

    public int Rows { get; init; } = 24;
}

/// <summary>How a PTY child ended: an exit code, or the signal that killed it.</summary>
public readonly record struct PtyExit(int? ExitCode, int? Signal)
{
    public static PtyExit FromWaitStatus(int status)
    {
        // WIFEXITED: low 7 bits zero; WEXITSTATUS: bits 8-15; WTERMSIG: low 7 bits.
        var termSig = status & 0x7f;
        return termSig == 0 ? new PtyExit((status >> 8) & 0xff, null) : new PtyExit(null, termSig);
    }
}

/// <summary>
/// Receives a PTY's output, then exactly one exit after the last byte, on a read loop thread shared
/// with other PTYs: every call must return quickly (copy the bytes and go), or the others wait.
/// </summary>
public interface IPtyListener
{
    /// <summary>Called on the read loop's thread; the span is only valid during the call.</summary>
    void OnOutput(ReadOnlySpan<byte> data);

    void OnExit(PtyExit exit);

    /// <summary>
    /// <see cref="OnOutput"/> or <see cref="OnExit"/> threw. An exception on the read loop's thread would
    /// end the whole process, so the PTY reports it here (for the log) and goes on.
    /// </summary>
    void OnListenerFailed(Exception exception);
}

public sealed class PtyStartException(string message, int errno) : Exception(message)
{
    public int Errno { get; } = errno;
}
