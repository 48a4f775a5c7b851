namespace AgentSidecar.Core.Chat;

/// <summary>One exchange in progress: what was asked, what the signals and the transcript said so far.</summary>
internal sealed class Turn(string id, string text, string source, long startedAt)
{
    public string Id { get; } = id;

    public string Text { get; } = text;

    /// <summary><c>chat</c> (chat/send) or <c>terminal</c> (typed straight into the agent).</summary>
    public string Source { get; } = source;

    public long StartedAt { get; } = startedAt;

    public TaskCompletionSource<TurnResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set once the message was typed: signals before it belong to something else.</summary>
    public volatile bool InputSent;

    public volatile bool SawBusy;

    public volatile bool DoneSignal;

    public volatile bool FailedSignal;

    public volatile bool Cancelling;

    public volatile bool CancelSignal;

    public long DoneAt { get; set; }

    public long CancelAt { get; set; }

    public string ScreenText { get; set; } = string.Empty;

    public long ScreenChangedAt { get; set; }

    public string Streamed { get; set; } = string.Empty;

    public long LastDeltaAt { get; set; }

    public List<string> TranscriptAnswers { get; } = [];

    public bool TranscriptCompleted { get; set; }

    public bool TranscriptAborted { get; set; }

    public bool SawUserInTranscript { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CachedInputTokens { get; set; }

    public int ToolCalls { get; set; }

    public bool HasUsage { get; set; }

    /// <summary>An approval of this turn was rejected (the agent may end the turn for it).</summary>
    public bool ApprovalRejected { get; set; }

    /// <summary>The tool call the turn is at (an approval that appears belongs to it).</summary>
    public string? LastToolCallId { get; set; }
}
