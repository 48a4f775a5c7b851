using AgentSidecar.Core.Sessions;
using AgentSidecar.Hosting;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;

namespace AgentSidecar.Handlers;

internal sealed class ChatHandlers(SidecarHost host)
{
    private const int DefaultHistoryLimit = 1000;

    private SessionManager Sessions => host.Sessions;

    [JsonRpcMethod(Methods.ChatSend)]
    public async Task<ChatSendResult> SendAsync(ChatSendParams p, CancellationToken ct)
    {
        var result = await Sessions.SendChatAsync(p.SessionId!, p.Text!, ct).ConfigureAwait(false);
        return new ChatSendResult { TurnId = result.TurnId, Status = result.Status, Text = result.Text, DurationMs = result.DurationMs, SessionId = result.SessionId, Reason = result.Reason, PreviousSessionId = result.PreviousSessionId };
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
