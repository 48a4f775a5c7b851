namespace AgentSidecar.Protocol;

public sealed record ChatSendParams : IValidatable, IOrderedRequest
{
    /// <summary>Problem: a message larger than this is a paste accident, not a chat. Solution: 1007.</summary>
    public const int MaxTextBytes = 1 << 20;

    public string? SessionId { get; init; }

    public string? Text { get; init; }

    // chat/send is deliberately not ordered behind the session: it runs for the whole turn, and
    // chat/cancel or a second chat/send (1003) on the same session must be answered meanwhile.
    public string? OrderingKey => null;

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        Require.NonEmpty(Text, "text");
        if (System.Text.Encoding.UTF8.GetByteCount(Text!) > MaxTextBytes)
        {
            throw new RpcException(ErrorCodes.PayloadTooLarge, $"'text' is over {MaxTextBytes} bytes", new System.Text.Json.Nodes.JsonObject { ["field"] = "text" });
        }
    }
}

public sealed record ChatSendResult
{
    public required string TurnId { get; init; }

    public required string Status { get; init; }

    public required string Text { get; init; }

    public long DurationMs { get; init; }

    public string? SessionId { get; init; }

    /// <summary>Why a turn was cancelled or failed.</summary>
    public string? Reason { get; init; }

    /// <summary><c>status:"cleared"</c> (the text was the provider's clear command): the session that ended; <see cref="SessionId"/> is the new one.</summary>
    public string? PreviousSessionId { get; init; }
}

public sealed record ChatHistoryParams : IValidatable
{
    public string? SessionId { get; init; }

    public int? Limit { get; init; }

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        Require.Range(Limit, "limit", 1, 100000);
    }
}

public sealed record ChatMessage
{
    public required string TurnId { get; init; }

    public required string Role { get; init; }

    public required string Text { get; init; }

    public required string Ts { get; init; }

    public string? SessionId { get; init; }
}

public sealed record ChatHistoryResult
{
    public required IReadOnlyList<ChatMessage> Messages { get; init; }
}

public sealed record ChatApproveParams : IValidatable
{
    public string? SessionId { get; init; }

    public string? ApprovalId { get; init; }

    public string? OptionId { get; init; }

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        Require.NonEmpty(ApprovalId, "approvalId");
        Require.NonEmpty(OptionId, "optionId");
    }
}

public sealed record ApprovalOptionInfo
{
    public required string OptionId { get; init; }

    public required string Label { get; init; }

    /// <summary><c>allow_once</c>, <c>allow_always</c>, <c>reject_once</c>, <c>reject_always</c>.</summary>
    public required string Kind { get; init; }
}

/// <summary>An approval as the <c>chat/approval</c> event carries it.</summary>
public sealed record ApprovalInfo
{
    public required string TurnId { get; init; }

    public required string ApprovalId { get; init; }

    public string? ToolCallId { get; init; }

    public required string Title { get; init; }

    public required string Detail { get; init; }

    public required IReadOnlyList<ApprovalOptionInfo> Options { get; init; }

    /// <summary><c>pending</c>, <c>allowed</c>, <c>rejected</c>, <c>cancelled</c>.</summary>
    public required string Status { get; init; }

    public string? ResolvedBy { get; init; }

    public string? OptionId { get; init; }
}

public sealed record ChatApproveResult
{
    public required ApprovalInfo Approval { get; init; }
}
