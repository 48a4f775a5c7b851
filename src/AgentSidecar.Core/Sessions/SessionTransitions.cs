using System.Text;
using System.Text.Json;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

public sealed record TransitionData(string? From, string? To, string Trigger);

/// <summary>What set off a transition (<c>system/transition</c>'s <c>trigger</c>).</summary>
public static class TransitionTriggers
{
    /// <summary><c>session/clear</c>, or a clear command sent with <c>chat/send</c>.</summary>
    public const string SessionClear = "session/clear";

    /// <summary>The clear command typed into the agent's terminal.</summary>
    public const string Terminal = "terminal";

    /// <summary>The agent itself started a new conversation (a clear picked from its menu, recalled from history…).</summary>
    public const string Agent = "agent";

    /// <summary><c>session/start</c> with <c>replaces</c>: another agent or model took the session's place.</summary>
    public const string Replace = "replace";
}

/// <summary>
/// Where a clear becomes a transition: the old session ends (final <c>system/transition {to}</c>,
/// completed, END "clear") and a new one starts (first <c>system/transition {from}</c>, active,
/// START), linked both ways, with the running workers moved to it, all in one commit. The agent
/// keeps running. A clear is recognised three ways (the sidecar types it; the user submits it in the
/// terminal; the agent reports a new conversation) and each clear transitions once: every path names
/// the conversation it saw (<see cref="LiveSession.Generation"/>), and a later one for the same
/// conversation finds it already moved on.
/// </summary>
internal sealed class SessionTransitions(SessionContext ctx)
{
    /// <summary>How long a running turn may take to stop before a clear goes ahead anyway.</summary>
    private static readonly TimeSpan ClearCancelWait = TimeSpan.FromSeconds(5);

    /// <summary><c>session/clear</c>: types the provider's clear command into the agent and transitions.</summary>
    public async Task<(SessionView Previous, SessionView Current)> ClearAsync(LiveSession live, CancellationToken cancellationToken)
    {
        var clear = live.Profile?.Clear ?? throw new SidecarException(SidecarError.InvalidState, $"provider '{live.Row.Provider}' has no clear command");
        var agent = live.Agent ?? throw new SidecarException(SidecarError.InvalidState, $"session {live.Id} has no agent");
        if (live.Chat is { Busy: true } chat)
        {
            // A clear during a turn: interrupt it first, so its end is recorded in the old session.
            await chat.CancelAsync().ConfigureAwait(false);
            await chat.WaitIdleAsync(ClearCancelWait).ConfigureAwait(false);
        }

        var generation = live.Generation;
        var input = live.Profile.Input;
        agent.Process?.Write(Encoding.UTF8.GetBytes(clear.Command));
        for (var i = 0; i < clear.Enters; i++)
        {
            await Task.Delay(i == 0 ? TimeSpan.FromMilliseconds(input.SubmitDelayMs) : SessionStopper.EnterGap, ctx.Clock, cancellationToken).ConfigureAwait(false);
            agent.Process?.Write(Encoding.UTF8.GetBytes(input.Submit));
        }

        var result = await TransitionAsync(live, TransitionTriggers.SessionClear, generation).ConfigureAwait(false);
        await SettleAsync(agent, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>The agent's output has to be quiet this long after a clear before the next message is typed.</summary>
    private static readonly TimeSpan ClearQuiet = TimeSpan.FromMilliseconds(250);

    /// <summary>…but no longer than this.</summary>
    private static readonly TimeSpan ClearSettleLimit = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Problem: the agent redraws itself after a clear, and a message typed meanwhile can be lost
    /// (Codex took it as part of the redraw; the turn then waited for an answer that never came).
    /// Solution: the clear answers once the agent's output has been quiet for a moment.
    /// </summary>
    private async Task SettleAsync(LiveWorker agent, CancellationToken cancellationToken)
    {
        var start = ctx.Now();
        while (ctx.Now() - start < ClearSettleLimit.TotalMilliseconds && ctx.Now() - agent.LastOutputAt < ClearQuiet.TotalMilliseconds)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(25), ctx.Clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A clear seen in the terminal or reported by the agent: transitions in the background (once per conversation).</summary>
    public void Observed(LiveSession live, string trigger, int generation) =>
        BackgroundWork.Run(ctx.Logger, $"transition of session {live.Id} ({trigger})", async () =>
        {
            try
            {
                await TransitionAsync(live, trigger, generation).ConfigureAwait(false);
            }
            catch (SidecarException)
            {
                // The session stopped meanwhile: there is nothing left to move on.
            }
        });

    /// <summary>
    /// The transition itself, for the conversation <paramref name="generation"/>; if that one was
    /// already moved on (another path saw the same clear first), nothing changes and the pair as it
    /// stands is returned. A commit that fails leaves the old session whole and live.
    /// </summary>
    public async Task<(SessionView Previous, SessionView Current)> TransitionAsync(LiveSession live, string trigger, int generation)
    {
        string previousId;
        var moved = false;
        await live.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (live.Stopping)
            {
                throw new SidecarException(SidecarError.InvalidState, $"session {live.Id} is stopping");
            }

            if (AlreadyMovedOn(live, trigger, generation))
            {
                previousId = live.Row.TransitionedFrom!;
            }
            else
            {
                previousId = live.Id;
                await MoveOnAsync(live, trigger).ConfigureAwait(false);
                moved = true;
                if (trigger == TransitionTriggers.Agent)
                {
                    live.AgentMovedOnFrom = generation;
                }
            }
        }
        finally
        {
            live.Gate.Release();
        }

        var previous = ctx.ViewStored(ctx.GetRow(previousId));
        var current = ctx.View(live);
        if (moved)
        {
            // Only the call that moved on tells everyone.
            ctx.Hub.TryGet(previousId)?.Wake();
            ctx.MetricsTrigger?.Invoke();
            ctx.NotifyChanged(previous);
            ctx.NotifyChanged(current);
            ctx.NotifyTransitioned(previous, current);
        }

        return (previous, current);
    }

    /// <summary>
    /// Whether the clear this call stands for was already carried out. Each clear typed or sent is
    /// its own (five typed clears are five transitions); the agent's report of a new conversation
    /// may be the same clear seen again, so it counts only if nothing moved the conversation on
    /// since it was seen, and a typed or sent clear counts unless the agent's report of that same
    /// conversation's end came first.
    /// </summary>
    private static bool AlreadyMovedOn(LiveSession live, string trigger, int generation) =>
        trigger == TransitionTriggers.Agent
            ? live.Generation != generation
            : live.Generation != generation && live.AgentMovedOnFrom == generation;

    private async Task MoveOnAsync(LiveSession live, string trigger)
    {
        var now = ctx.Now();
        var newId = SessionIds.New();
        var workers = live.Workers;
        ctx.Hub.Stream(newId, 0);
        var oldId = live.Id;
        try
        {
            await CommitAsync(live, trigger, now, newId, workers).ConfigureAwait(false);
        }
        catch
        {
            // The commit failed (a full disk): nothing of the new session exists, so the workers'
            // output goes on into the old one, which is still live and whole.
            foreach (var worker in workers)
            {
                worker.SessionId = oldId;
                worker.Row = worker.Row with { SessionId = oldId };
            }

            ctx.Hub.Remove(newId);
            throw;
        }

        ctx.Registry.Rename(oldId, live);
        if (live.Chat is { } chat)
        {
            await chat.ConversationClearedAsync().ConfigureAwait(false);
        }
    }

    private Task<SessionRow?> CommitAsync(LiveSession live, string trigger, long now, string newId, List<LiveWorker> workers) =>
        live.UpdateAsync(ctx.Writer, old => old with
        {
            Id = newId,
            Status = SessionStatuses.Active,
            StatusReason = null,
            CreatedAt = now,
            UpdatedAt = now,
            EndedAt = null,
            TransitionedFrom = old.Id,
            TransitionedTo = null,
            AgentSessionId = null,
            LastSeq = 0,
            LastActivityAt = now,
        }, (w, old, fresh) =>
        {
            // A worktree goes on with the conversation after the clear: the new session owns it.
            var ended = old with
            {
                Status = SessionStatuses.Completed,
                StatusReason = "clear",
                EndedAt = now,
                UpdatedAt = now,
                TransitionedTo = fresh.Id,
                WorktreeState = old.WorktreeState == WorktreeStates.Active ? WorktreeStates.Moved : old.WorktreeState,
            };
            w.UpdateSession(ended);
            MetricsRecords.End(w, ended, MetricsRecords.Clear);
            w.Append(Transition(ended.Id, null, fresh.Id, trigger));
            w.InsertSession(fresh);
            w.Append(Transition(fresh.Id, ended.Id, null, trigger));
            MetricsRecords.Start(w, fresh);
            foreach (var worker in workers)
            {
                worker.Row = worker.Row with { SessionId = fresh.Id };
                w.UpsertWorker(worker.Row);

                // On the writer thread: output written from here on belongs to the new session.
                worker.SessionId = fresh.Id;
            }
        });

    internal static EventDraft Transition(string sessionId, string? from, string? to, string trigger) =>
        new(sessionId, Channels.System, Events.EventTypes.Transition, null, JsonSerializer.SerializeToUtf8Bytes(new TransitionData(from, to, trigger), TransitionJsonContext.Default.TransitionData));
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TransitionData))]
internal sealed partial class TransitionJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
