using System.Text.Json;
using System.Text.Json.Serialization;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Chat;

public sealed record TurnUsage(long InputTokens, long OutputTokens, long CachedInputTokens, int ToolCalls);

public sealed record ChatUserData(string TurnId, string Text, string Source);

public sealed record ChatDeltaData(string TurnId, string Text);

public sealed record ChatMessageData(string TurnId, string Role, string Text, string Source);

public sealed record ChatTurnData(string TurnId, string Status, long DurationMs, TurnUsage? Usage, string? Reason);

/// <summary>What <c>chat/send</c> answers when the turn ends.</summary>
public sealed record TurnResult(string TurnId, string Status, string Text, long DurationMs, string SessionId, string? Reason)
{
    /// <summary>For <see cref="TurnStatuses.Cleared"/>: the session the clear ended (<see cref="SessionId"/> is the new one).</summary>
    public string? PreviousSessionId { get; init; }
}

/// <summary>How a turn ended (<c>chat/turn</c>'s and <c>chat/send</c>'s <c>status</c>).</summary>
public static class TurnStatuses
{
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";

    /// <summary><c>chat/send</c> only: the message was the provider's clear command, so the session moved on (no turn).</summary>
    public const string Cleared = "cleared";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatUserData))]
[JsonSerializable(typeof(ChatDeltaData))]
[JsonSerializable(typeof(ChatMessageData))]
[JsonSerializable(typeof(ChatTurnData))]
[JsonSerializable(typeof(ChatToolData))]
[JsonSerializable(typeof(ChatApprovalData))]
[JsonSerializable(typeof(ChatPlanData))]
internal sealed partial class ChatJsonContext : JsonSerializerContext;

internal static class ChatEvents
{
    public const string UserType = "user";
    public const string DeltaType = "delta";
    public const string MessageType = "message";
    public const string TurnType = "turn";
    public const string ToolType = "tool";
    public const string ApprovalType = "approval";
    public const string PlanType = "plan";

    public static EventDraft User(string sessionId, string turnId, string text, string source) =>
        new(sessionId, Channels.Chat, UserType, null, JsonSerializer.SerializeToUtf8Bytes(new ChatUserData(turnId, text, source), ChatJsonContext.Default.ChatUserData));

    public static EventDraft Delta(string sessionId, string turnId, string text) =>
        new(sessionId, Channels.Chat, DeltaType, null, JsonSerializer.SerializeToUtf8Bytes(new ChatDeltaData(turnId, text), ChatJsonContext.Default.ChatDeltaData));

    public static EventDraft Message(string sessionId, string turnId, string text, string source) =>
        new(sessionId, Channels.Chat, MessageType, null, JsonSerializer.SerializeToUtf8Bytes(new ChatMessageData(turnId, "assistant", text, source), ChatJsonContext.Default.ChatMessageData));

    public static EventDraft Tool(string sessionId, ChatToolData data) =>
        new(sessionId, Channels.Chat, ToolType, null, JsonSerializer.SerializeToUtf8Bytes(data, ChatJsonContext.Default.ChatToolData));

    public static EventDraft Approval(string sessionId, ChatApprovalData data) =>
        new(sessionId, Channels.Chat, ApprovalType, null, JsonSerializer.SerializeToUtf8Bytes(data, ChatJsonContext.Default.ChatApprovalData));

    public static EventDraft Plan(string sessionId, ChatPlanData data) =>
        new(sessionId, Channels.Chat, PlanType, null, JsonSerializer.SerializeToUtf8Bytes(data, ChatJsonContext.Default.ChatPlanData));

    public static EventDraft Turn(string sessionId, ChatTurnData data) =>
        new(sessionId, Channels.Chat, TurnType, null, JsonSerializer.SerializeToUtf8Bytes(data, ChatJsonContext.Default.ChatTurnData));

    /// <summary>
    /// The end of a turn the log left open (its <c>chat/user</c> has no <c>chat/turn</c>: the
    /// sidecar that ran it died), as <c>failed</c> with <paramref name="reason"/>; null when the
    /// last turn ended.
    /// </summary>
    public static EventDraft? CloseOpenTurn(WriteContext ctx, string sessionId, string reason)
    {
        var last = ctx.LastEvent(sessionId, Channels.Chat);
        if (last is null || last.Type == TurnType)
        {
            return null;
        }

        var user = ctx.LastEvent(sessionId, Channels.Chat, UserType);
        if (user is null)
        {
            return null;
        }

        var opened = JsonSerializer.Deserialize(user.Data, ChatJsonContext.Default.ChatUserData);
        return opened is null ? null : Turn(sessionId, new ChatTurnData(opened.TurnId, TurnStatuses.Failed, Math.Max(0, ctx.Now - user.Ts), null, reason));
    }
}
