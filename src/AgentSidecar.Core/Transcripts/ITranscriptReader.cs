namespace AgentSidecar.Core.Transcripts;

/// <summary>Incremental reader of one transcript file. Not thread-safe: one poller per reader.</summary>
public interface ITranscriptReader
{
    string Path { get; }

    /// <summary>The agent's own conversation id, known once the first lines are read.</summary>
    string? AgentSessionId { get; }

    /// <summary>
    /// Where reading stopped: bytes fully consumed for JSONL, exchanges returned for Auggie.
    /// Persist it and pass it to <see cref="TranscriptReaders.Open"/> so a restart returns only later items.
    /// </summary>
    long Watermark { get; }

    /// <summary>Items not returned before. Never throws for bad content; cheap (one stat) when nothing changed.</summary>
    IReadOnlyList<TranscriptItem> ReadNew();
}
