namespace AgentSidecar.Rpc;

public sealed record RpcOptions
{
    /// <summary>Default limit of one message body (16 MiB): larger ones get 1007 and are skipped unread.</summary>
    public const long DefaultMaxMessageBytes = 16L * 1024 * 1024;

    public long MaxMessageBytes { get; init; } = DefaultMaxMessageBytes;

    /// <summary>
    /// Streamed notifications (events) wait while more than this many bytes are queued for the
    /// client: a slow client slows only its own stream, and the log, not memory, holds the rest.
    /// </summary>
    public long StreamHighWaterBytes { get; init; } = 1024 * 1024;

    /// <summary>A client that reads nothing for this long while a stream waits on it is detached ("overflow").</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Past this many queued bytes of any kind the client is considered dead and dropped.</summary>
    public long HardLimitBytes { get; init; } = 64L * 1024 * 1024;
}
