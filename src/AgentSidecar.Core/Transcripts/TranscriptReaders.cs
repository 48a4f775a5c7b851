namespace AgentSidecar.Core.Transcripts;

public static class TranscriptReaders
{
    public const string CodexRollout = "codex-rollout", ClaudeJsonl = "claude-jsonl", AuggieSession = "auggie-session";

    /// <summary>A reader for <paramref name="path"/> (which need not exist yet) starting after <paramref name="watermark"/>.</summary>
    public static ITranscriptReader Open(string kind, string path, long watermark = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(watermark);
        return kind switch
        {
            CodexRollout => new JsonlTranscriptReader(path, watermark, new CodexRolloutParser()),
            ClaudeJsonl => new JsonlTranscriptReader(path, watermark, new ClaudeJsonlParser()),
            AuggieSession => new AuggieSessionReader(path, watermark),
            _ => throw new ArgumentException($"Unknown transcript kind '{kind}'.", nameof(kind)),
        };
    }
}
