using AgentSidecar.Core.Sessions;
using AgentSidecar.Protocol;
using StreamJsonRpc;

namespace AgentSidecar.Handlers;

internal sealed class ChatHandlers(SessionManager sessions)
{
    private const int DefaultHistoryLimit = 1000;

    private SessionManager Sessions => sessions;

    [JsonRpcMethod(Methods.ChatSend)]
    public async Task<ChatSendResult> SendAsync(ChatSendParams p, CancellationToken ct)
    {
        var result = await Sessions.SendChatAsync(p.SessionId!, p.Text!, ct).ConfigureAwait(false);
        return new ChatSendResult { TurnId = result.TurnId, Status = result.Status, Text = result.Text, DurationMs = result.DurationMs, SessionId = result.SessionId, Reason = result.Reason, PreviousSessionId = result.PreviousSessionId };
    }

    [JsonRpcMethod(Methods.ChatApprove)]
    public async Task<ChatApproveResult> ApproveAsync(ChatApproveParams p, CancellationToken ct)
    {
        var a = await Sessions.ApproveAsync(p.SessionId!, p.ApprovalId!, p.OptionId!, ct).ConfigureAwait(false);
        return new ChatApproveResult
        {
            Approval = new ApprovalInfo
            {
                TurnId = a.TurnId,
                ApprovalId = a.ApprovalId,
                ToolCallId = a.ToolCallId,
                Title = a.Title,
                Detail = a.Detail,
                Options = a.Options.Select(o => new ApprovalOptionInfo { OptionId = o.OptionId, Label = o.Label, Kind = o.Kind }).ToList(),
                Status = a.Status,
                ResolvedBy = a.ResolvedBy,
                OptionId = a.OptionId,
            },
        };
    }

    [JsonRpcMethod(Methods.ChatCancel)]
    public async Task<EmptyResult> CancelAsync(SessionIdParams p, CancellationToken ct)
    {
        await Sessions.CancelChatAsync(p.SessionId!).ConfigureAwait(false);
        return EmptyResult.Instance;
    }

    [JsonRpcMethod(Methods.ChatHistory)]
    public Task<ChatHistoryResult> HistoryAsync(ChatHistoryParams p, CancellationToken ct) =>
        Task.FromResult(new ChatHistoryResult
        {
            Messages = Sessions.ChatHistory(p.SessionId!, p.Limit ?? DefaultHistoryLimit)
                .Select(m => new ChatMessage { TurnId = m.TurnId, Role = m.Role, Text = m.Text, Ts = WireMapper.Ts(m.Ts), SessionId = m.SessionId })
                .ToList(),
        });
}
