namespace AgentSidecar.Core.Transcripts;

// Placeholder of the transcript API until the readers land (same shapes).
public abstract record TranscriptItem(DateTimeOffset? Ts);

public sealed record SessionStarted(string AgentSessionId, string? Cwd, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record UserMessage(string Text, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record AssistantMessage(string Text, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record ToolCall(string Name, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record UsageReported(long InputTokens, long OutputTokens, long CachedInputTokens, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record TurnCompleted(string? LastAgentMessage, long? DurationMs, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record TurnAborted(string? Reason, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record TranscriptProblem(string Message) : TranscriptItem((DateTimeOffset?)null);
