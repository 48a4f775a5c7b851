using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Chat;

/// <summary>The agent's own record of the conversation, read incrementally (null when the provider has none).</summary>
internal interface ITranscriptSource
{
    string? AgentSessionId { get; }

    /// <summary>New items since the last call; cheap when nothing changed.</summary>
    IReadOnlyList<TranscriptItem> Poll();

    /// <summary>
    /// True when the agent itself shows that it has started a new conversation since the one being
    /// read (a clear the sidecar could not see typed: picked from a menu, recalled from history).
    /// </summary>
    bool AgentMovedOn();

    /// <summary>Forget the current file: the conversation was cleared and a new file will come.</summary>
    void Restart(DateTimeOffset since);
}
