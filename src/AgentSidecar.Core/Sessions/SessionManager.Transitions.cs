using System.Text;
using System.Text.Json;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

public sealed record TransitionData(string? From, string? To, string Trigger);

public sealed partial class SessionManager
{
    /// <summary>How long a running turn may take to stop before a clear goes ahead anyway.</summary>
    private static readonly TimeSpan ClearCancelWait = TimeSpan.FromSeconds(5);

    /// <summary>Between the submit keys of a clear command that needs more than one (Auggie's menu).</summary>
    private static readonly TimeSpan ClearEnterGap = TimeSpan.FromMilliseconds(300);

    /// <summary>Raised after a transition: (previous, current).</summary>
    public event Action<SessionView, SessionView>? SessionTransitioned;

    /// <summary>
    /// <c>session/clear</c>: types the provider's clear command into the agent and moves the running
    /// workers to a new session linked to this one.
    /// </summary>
    public async Task<(SessionView Previous, SessionView Current)> ClearAsync(string sessionId, CancellationToken cancellationToken)
    {
        var live = GetLive(sessionId);
        var clear = live.Profile?.Clear ?? throw new SidecarException(SidecarError.InvalidState, $"provider '{live.Row.Provider}' has no clear command");
        var agent = live.Agent ?? throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} has no agent");
        if (live.Chat is { Busy: true } chat)
        {
            // A clear during a turn: interrupt it first, so its end is recorded in the old session.
            await chat.CancelAsync().ConfigureAwait(false);
            var deadline = DateTime.UtcNow + ClearCancelWait;
            while (chat.Busy && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }

        var input = live.Profile.Input;
        agent.Process?.Write(Encoding.UTF8.GetBytes(clear.Command));
        for (var i = 0; i < clear.Enters; i++)
        {
            await Task.Delay(i == 0 ? TimeSpan.FromMilliseconds(input.SubmitDelayMs) : ClearEnterGap, cancellationToken).ConfigureAwait(false);
            agent.Process?.Write(Encoding.UTF8.GetBytes(input.Submit));
        }

        return await TransitionAsync(live, "session/clear").ConfigureAwait(false);
    }

    /// <summary>Input typed into an agent: a submitted clear command starts the transition.</summary>
    private void WatchForClear(LiveWorker worker, string data)
    {
        // The worker's own session object (its id changes with each clear; the object does not).
        if (worker.Row.Kind != "agent" || worker.Session is not { } live || live.Profile?.Clear is not { } clear)
        {
            return;
        }

        worker.TypedLine ??= new TypedLine();
        foreach (var line in worker.TypedLine.Feed(data))
        {
            if (line == clear.Command)
            {
                _ = Task.Run(() => TransitionAsync(live, "terminal"));
            }
        }
    }

    /// <summary>
    /// The transition: the old session ends (final <c>system/transition {to}</c>, completed, END
    /// "clear") and a new one starts (first <c>system/transition {from}</c>, active, START), linked
    /// both ways, with the running workers moved to it, all in one commit. The agent keeps running.
    /// </summary>
    internal async Task<(SessionView Previous, SessionView Current)> TransitionAsync(LiveSession live, string trigger)
    {
        await live.Gate.WaitAsync().ConfigureAwait(false);
        SessionRow ended;
        SessionRow fresh;
        try
        {
            if (live.Stopping)
            {
                throw new SidecarException(SidecarError.InvalidState, $"session {live.Id} is stopping");
            }

            var old = live.Row;
            var now = Now();
            var newId = NewId();
            // A worktree goes on with the conversation after the clear: the new session owns it.
            ended = old with { Status = "completed", StatusReason = "clear", EndedAt = now, UpdatedAt = now, TransitionedTo = newId, WorktreeState = old.WorktreeState == "active" ? "moved" : old.WorktreeState };
            fresh = old with
            {
                Id = newId,
                Status = "active",
                StatusReason = null,
                CreatedAt = now,
                UpdatedAt = now,
                EndedAt = null,
                TransitionedFrom = old.Id,
                TransitionedTo = null,
                AgentSessionId = null,
                LastSeq = 0,
                LastActivityAt = now,
            };
            var workers = live.Workers;
            _hub.Stream(newId, 0);
            var endedRow = ended;
            var freshRow = fresh;
            await _writer.WriteAsync(ctx =>
            {
                ctx.UpdateSession(endedRow);
                MetricsRecords.End(ctx, endedRow, MetricsRecords.Clear);
                ctx.Append(Transition(endedRow.Id, null, freshRow.Id, trigger));
                ctx.InsertSession(freshRow);
                ctx.Append(Transition(freshRow.Id, endedRow.Id, null, trigger));
                MetricsRecords.Start(ctx, freshRow);
                foreach (var w in workers)
                {
                    w.Row = w.Row with { SessionId = freshRow.Id };
                    ctx.UpsertWorker(w.Row);

                    // On the writer thread: output written from here on belongs to the new session.
                    w.SessionId = freshRow.Id;
                }

                return 0;
            }).ConfigureAwait(false);
            live.Row = fresh;
            _live[fresh.Id] = live;
            _live.TryRemove(ended.Id, out _);
            live.Chat?.ConversationCleared();
        }
        finally
        {
            live.Gate.Release();
        }

        _hub.TryGet(ended.Id)?.Wake();
        MetricsTrigger?.Invoke();
        var previous = ViewStored(GetRow(ended.Id));
        var current = View(live);
        SessionChanged?.Invoke(previous);
        SessionChanged?.Invoke(current);
        SessionTransitioned?.Invoke(previous, current);
        return (previous, current);
    }

    private static EventDraft Transition(string sessionId, string? from, string? to, string trigger) =>
        new(sessionId, "system", "transition", null, JsonSerializer.SerializeToUtf8Bytes(new TransitionData(from, to, trigger), TransitionJsonContext.Default.TransitionData));
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TransitionData))]
internal sealed partial class TransitionJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
