using System.Text;
using System.Text.Json;
using AgentSidecar.Core.Chat;

namespace AgentSidecar.Core.Sessions;

public sealed record ChatHistoryItem(string TurnId, string Role, string Text, long Ts, string SessionId);

public sealed partial class SessionManager
{
    /// <summary>Types a message into the session's agent; completes when the turn ends.</summary>
    public async Task<TurnResult> SendChatAsync(string sessionId, string text, CancellationToken cancellationToken)
    {
        if (Encoding.UTF8.GetByteCount(text) > SidecarOptions.MaxInputBytes)
        {
            throw new SidecarException(SidecarError.PayloadTooLarge, $"the message is over {SidecarOptions.MaxInputBytes} bytes; attach large content as a file instead");
        }

        var live = GetLive(sessionId);
        var chat = live.Chat ?? throw new SidecarException(SidecarError.InvalidState, $"provider '{live.Row.Provider}' has no chat; type into its terminal with worker/input");
        TouchActivity(sessionId);
        return await chat.SendAsync(text, cancellationToken).ConfigureAwait(false);
    }

    public Task CancelChatAsync(string sessionId)
    {
        var live = GetLive(sessionId);
        return live.Chat?.CancelAsync() ?? Task.CompletedTask;
    }

    /// <summary>The conversation of a session, from its chat events (oldest first, the last <paramref name="limit"/>).</summary>
    public List<ChatHistoryItem> ChatHistory(string sessionId, int limit)
    {
        _ = Get(sessionId);
        var messages = new List<ChatHistoryItem>();
        long after = 0;
        while (true)
        {
            var page = _store.ReadEvents(sessionId, after, 5000, ["chat"]);
            foreach (var e in page)
            {
                if (e.Type is "user" or "message")
                {
                    using var doc = JsonDocument.Parse(e.Data);
                    var root = doc.RootElement;
                    messages.Add(new ChatHistoryItem(root.GetProperty("turnId").GetString()!, e.Type == "user" ? "user" : "assistant", root.GetProperty("text").GetString() ?? string.Empty, e.Ts, sessionId));
                }
            }

            if (page.Count < 5000)
            {
                break;
            }

            after = page[^1].Seq;
        }

        return messages.Count > limit ? messages[^limit..] : messages;
    }

    /// <summary>The emulated screen of a running worker.</summary>
    public ScreenSnapshot Screen(string workerId)
    {
        var worker = GetLiveWorker(workerId);
        return worker.Screen?.Snapshot() ?? throw new SidecarException(SidecarError.InvalidState, $"worker {workerId} has no screen");
    }

    private async Task SetAgentSessionIdAsync(LiveSession live, string agentSessionId)
    {
        live.Row = live.Row with { AgentSessionId = agentSessionId, UpdatedAt = Now() };
        var row = live.Row;
        await _writer.WriteAsync(ctx =>
        {
            ctx.UpdateSession(row);
            return 0;
        }).ConfigureAwait(false);
        SessionChanged?.Invoke(View(live));
    }
}
