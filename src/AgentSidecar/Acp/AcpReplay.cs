using AgentSidecar.Cli;
using AgentSidecar.Core.Events;
using AgentSidecar.Protocol;

namespace AgentSidecar.Acp;

/// <summary>
/// <c>session/load</c>'s history: the recorded conversation of a session and of the sessions its
/// <c>/clear</c>s led to, from the event log (<c>session/events</c>, chat channel), as the updates a
/// client would have seen: <c>user_message_chunk</c> per message, <c>agent_message_chunk</c> per
/// answer (the whole answer, from the transcript), <c>tool_call</c>/<c>tool_call_update</c> per tool
/// call state, <c>plan</c> per plan. Deltas and approvals are not replayed (the answer and the tool
/// calls hold their outcome).
/// </summary>
internal static class AcpReplay
{
    /// <summary>Events per <c>session/events</c> page.</summary>
    private const int PageSize = 1000;

    /// <summary>Sends the history of <paramref name="first"/>'s chain; returns the newest session of it and the seq its live events go on after.</summary>
    public static async Task<(Session Current, long AfterSeq)> SendAsync(CliConnection conn, Session first, string acpId, IAcpClient client, CancellationToken cancellationToken)
    {
        var items = new AcpTurnItems(first.Workspace);
        var session = first;
        while (true)
        {
            var afterSeq = 0L;
            while (true)
            {
                var page = await conn.RequestAsync(CliProtocol.SessionEvents, new SessionEventsParams { SessionId = session.Id, AfterSeq = afterSeq, Limit = PageSize, Channels = [Channels.Chat] }, cancellationToken).ConfigureAwait(false);
                foreach (var e in page.Events)
                {
                    afterSeq = e.Seq;
                    if (Update(e, items) is { } update)
                    {
                        await client.UpdateAsync(acpId, update).ConfigureAwait(false);
                    }
                }

                if (!page.HasMore || page.Events.Count == 0)
                {
                    break;
                }
            }

            if (session.TransitionedTo is not { } next)
            {
                return (session, afterSeq);
            }

            session = await conn.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = next }, cancellationToken).ConfigureAwait(false);
        }
    }

    private static SessionUpdate? Update(EventRecord e, AcpTurnItems items) => e.Type switch
    {
        EventTypes.User when CliProtocol.Payload(e, AcpJsonContext.Default.ChatUserData) is { } user => new UserMessageChunk(new ContentBlock("text", user.Text)),
        EventTypes.Message when CliProtocol.Payload(e, AcpJsonContext.Default.ChatMessageData) is { } message && message.Text.Length > 0 => new AgentMessageChunk(new ContentBlock("text", message.Text)),
        EventTypes.Tool when CliProtocol.Payload(e, AcpJsonContext.Default.ChatToolData) is { } tool => items.Tool(tool),
        EventTypes.Plan when CliProtocol.Payload(e, AcpJsonContext.Default.ChatPlanData) is { } plan => AcpTurnItems.Plan(plan),
        _ => null,
    };
}
