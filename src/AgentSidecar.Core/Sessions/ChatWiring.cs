using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Providers;

namespace AgentSidecar.Core.Sessions;

/// <summary>Connects a session's agent to chat: its transcript watcher and its chat controller, with what they report back.</summary>
internal sealed class ChatWiring(SessionContext ctx, SessionTransitions transitions)
{
    /// <summary>How long after the user typed into an agent its new transcript is still expected.</summary>
    private const int TranscriptExpectMs = 60_000;

    private readonly TranscriptClaims _claims = new();

    public ChatController Wire(LiveSession live, LiveWorker agent, ProviderProfile profile, string? resumeAgentSessionId)
    {
        var transcript = CreateTranscriptWatcher(live, agent, profile, resumeAgentSessionId);
        var reports = new ChatReports(
            Changed: () => ctx.NotifyChanged(live),
            AgentSessionId: id =>
            {
                // The conversation the agent named is the one running now (captured before any later clear).
                var sessionId = agent.SessionId;
                BackgroundWork.Run(ctx.Logger, $"recording the agent session id of {sessionId}", async () =>
                {
                    await live.SetAgentSessionIdAsync(ctx.Writer, sessionId, id, ctx.Now()).ConfigureAwait(false);
                    ctx.NotifyChanged(live);
                });
            },
            NewConversation: generation => transitions.Observed(live, TransitionTriggers.Agent, generation),
            Generation: () => live.Generation);
        var chat = new ChatController(live, agent, agent.Screen!, profile, ctx.Writer, ctx.Clock, transcript, reports, ctx.Logger);
        live.Chat = chat;
        return chat;
    }

    private TranscriptWatcher? CreateTranscriptWatcher(LiveSession live, LiveWorker agent, ProviderProfile profile, string? resumeAgentSessionId)
    {
        if (profile.Transcript is not { Reader.Length: > 0 } t)
        {
            return null;
        }

        return new TranscriptWatcher(
            t.Reader,
            ctx.Providers.Expand(t.Dir, profile.Env),
            Workspace.AgentCwd(live.Row),
            DateTimeOffset.FromUnixTimeMilliseconds(agent.Row.CreatedAt),
            resumeAgentSessionId,
            _claims,
            () => agent.SessionId,
            () => agent.Process is { HasExited: false } p ? p.Pid : null,
            () => live.Chat?.Busy == true || ctx.Now() - agent.LastInputAt < TranscriptExpectMs,
            ctx.Clock);
    }
}
