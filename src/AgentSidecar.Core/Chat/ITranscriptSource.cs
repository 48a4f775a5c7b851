using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Chat;

/// <summary>The agent's own record of the conversation, read incrementally (null when the provider has none).</summary>
internal interface ITranscriptSource
{
    string? AgentSessionId { get; }

    /// <summary>New items since the last call; cheap when nothing changed.</summary>
    IReadOnlyList<TranscriptItem> Poll();

    /// <summary>Forget the current file: the conversation was cleared and a new file will come.</summary>
    void Restart(DateTimeOffset since);
}
