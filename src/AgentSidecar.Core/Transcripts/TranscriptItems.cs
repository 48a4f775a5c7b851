namespace AgentSidecar.Core.Transcripts;

/// <summary>One thing read from an agent's own transcript file.</summary>
public abstract record TranscriptItem(DateTimeOffset? Ts);

/// <summary>The agent's conversation id and working directory, once per transcript.</summary>
public sealed record SessionStarted(string AgentSessionId, string? Cwd, DateTimeOffset? Ts) : TranscriptItem(Ts);

/// <summary>Only what the human typed: no injected context, command wrappers or tool results.</summary>
public sealed record UserMessage(string Text, DateTimeOffset? Ts) : TranscriptItem(Ts);

/// <summary>Visible answer text of the agent (not thinking, not tool calls).</summary>
public sealed record AssistantMessage(string Text, DateTimeOffset? Ts) : TranscriptItem(Ts);

/// <summary>A tool the agent called: its name, its id in the transcript, and its arguments as recorded (JSON, or a freeform tool's text).</summary>
public sealed record ToolCall(string Name, DateTimeOffset? Ts) : TranscriptItem(Ts)
{
    public string? CallId { get; init; }

    public string? Arguments { get; init; }
}

/// <summary>What a tool call gave back; <c>Details</c> is the agent's structured record of it (JSON) where it keeps one.</summary>
public sealed record ToolResult(string CallId, string? Output, bool IsError, int? ExitCode, DateTimeOffset? Ts) : TranscriptItem(Ts)
{
    public string? Details { get; init; }
}

/// <summary>
/// Token usage of one model response or turn: always a delta, never a running total.
/// InputTokens counts every input token, cached or not; CachedInputTokens is the part read from cache.
/// </summary>
public sealed record UsageReported(long InputTokens, long OutputTokens, long CachedInputTokens, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record TurnCompleted(string? LastAgentMessage, long? DurationMs, DateTimeOffset? Ts) : TranscriptItem(Ts);

public sealed record TurnAborted(string? Reason, DateTimeOffset? Ts) : TranscriptItem(Ts);

/// <summary>Something in the file could not be read (malformed line, rewritten file, ...); reading goes on.</summary>
public sealed record TranscriptProblem(string Message) : TranscriptItem((DateTimeOffset?)null);
