using System.Text.Json;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Events;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

public sealed record ChatHistoryItem(string TurnId, string Role, string Text, long Ts, string SessionId);

/// <summary>
/// The session layer's front: what the protocol handlers and the CLI call. It holds no logic of
/// its own beyond finding the live session; each behaviour lives in the collaborator named for it
/// (<see cref="SessionLauncher"/>, <see cref="SessionStopper"/>, <see cref="SessionTransitions"/>,
/// <see cref="AgentInput"/>, <see cref="OrphanRecovery"/>, <see cref="SessionCleanup"/>,
/// <see cref="TranscriptImport"/>, <see cref="WorkerSpawner"/>, <see cref="SessionEvents"/>).
/// Knows nothing of JSON-RPC.
/// </summary>
public sealed class SessionManager : IAsyncDisposable
{
    private const int HistoryPage = 5000;

    private readonly SessionContext _ctx;
    private readonly SessionEvents _events;
    private readonly SessionStopper _stopper;
    private readonly WorkerSpawner _spawner;
    private readonly SessionLauncher _launcher;
    private readonly SessionTransitions _transitions;
    private readonly AgentInput _input;
    private readonly OrphanRecovery _recovery;
    private readonly SessionCleanup _cleanup;
    private readonly TranscriptImport _import;
    private readonly TerminalLauncher _terminals;
    private readonly SessionTaskIds _taskIds;

    public SessionManager(SidecarOptions options, SidecarStore store, StoreWriter writer, EventHub hub, ProviderRegistry providers, TimeProvider clock, ILogger<SessionManager> logger, IReadOnlyDictionary<string, string> environment)
    {
        _ctx = new SessionContext(options, store, writer, hub, providers, clock, logger, environment);
        _events = new SessionEvents(_ctx);
        var worktrees = new SessionWorktrees(_ctx);
        _stopper = new SessionStopper(_ctx, worktrees);
        _spawner = new WorkerSpawner(_ctx, _events, _stopper);
        _transitions = new SessionTransitions(_ctx);
        _input = new AgentInput(_ctx, _transitions);
        _recovery = new OrphanRecovery(_ctx);
        _launcher = new SessionLauncher(_ctx, _spawner, _stopper, _recovery, new ChatWiring(_ctx, _transitions), new SessionReplacement(_ctx, _stopper));
        _cleanup = new SessionCleanup(_ctx, _stopper, _events, worktrees);
        _import = new TranscriptImport(_ctx);
        _terminals = new TerminalLauncher(_ctx, _spawner);
        _taskIds = new SessionTaskIds(_ctx);
    }

    /// <summary>Raised after every committed change of a session's state or workers.</summary>
    public event Action<SessionView>? SessionChanged
    {
        add => _ctx.Changed += value;
        remove => _ctx.Changed -= value;
    }

    /// <summary>Raised after a transition: (previous, current).</summary>
    public event Action<SessionView, SessionView>? SessionTransitioned
    {
        add => _ctx.Transitioned += value;
        remove => _ctx.Transitioned -= value;
    }

    /// <summary>Asks the metrics sync to send now (after an END or a transition).</summary>
    public Action? MetricsTrigger
    {
        get => _ctx.MetricsTrigger;
        set => _ctx.MetricsTrigger = value;
    }

    /// <summary>The unix socket clients can reach this sidecar on (recorded as the owner's address).</summary>
    public SidecarLimits Limits
    {
        get => _ctx.Limits;
        set => _ctx.Limits = value;
    }

    public string? OwnerSocket
    {
        get => _ctx.OwnerSocket;
        set => _ctx.OwnerSocket = value;
    }

    public int LiveCount => _ctx.Registry.Count;

    // Sessions: start, look up, stop.

    public Task<SessionView> StartAsync(StartSessionRequest request, CancellationToken cancellationToken) => _launcher.StartAsync(request, cancellationToken);

    public Task<SessionView> ResumeAsync(string sessionId, CancellationToken cancellationToken) => _launcher.ResumeAsync(sessionId, cancellationToken);

    public SessionView Get(string sessionId) => _ctx.Get(sessionId);

    public (List<SessionView> Sessions, SessionRow? Last) List(SessionQuery query)
    {
        var rows = _ctx.Store.ListSessions(query with { Limit = query.Limit + 1 });
        var hasMore = rows.Count > query.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var workers = _ctx.Store.ListWorkers(rows.Select(r => r.Id));
        var views = rows.Select(r => _ctx.Registry.TryGet(r.Id, out var live)
            ? _ctx.View(live)
            : new SessionView(r, workers.GetValueOrDefault(r.Id) ?? [], false, false)).ToList();
        return (views, hasMore ? rows[^1] : null);
    }

    /// <summary><c>session/suspend</c>: the agent quits gracefully, every worker stops, the session waits to be resumed.</summary>
    public async Task<SessionView> SuspendAsync(string sessionId)
    {
        var live = _ctx.Registry.GetLive(sessionId, _ctx.Store);
        if (live.Chat is { Busy: true })
        {
            throw new SidecarException(SidecarError.SessionBusy, $"session {sessionId} is running a turn; wait for it or cancel it (chat/cancel) before suspending", new Dictionary<string, object?> { ["sessionId"] = sessionId });
        }

        await _stopper.StopAsync(live, SessionStatuses.Suspended, "suspended", MetricsRecords.Suspend, graceful: true).ConfigureAwait(false);
        return _ctx.ViewStored(_ctx.GetRow(sessionId));
    }

    /// <summary><c>session/end</c>: stops every worker and marks the session completed (also a suspended or orphaned one).</summary>
    public async Task<SessionView> EndAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (_ctx.Registry.TryGet(sessionId, out var live))
        {
            await _stopper.StopAsync(live, SessionStatuses.Completed, "ended", MetricsRecords.Exit, graceful: true).ConfigureAwait(false);
            return _ctx.ViewStored(_ctx.GetRow(sessionId));
        }

        var row = _ctx.GetRow(sessionId);
        SessionRegistry.EnsureNotForeign(row);
        if (SessionStatuses.IsRunning(row.Status) && await _recovery.RecoverAsync(row).ConfigureAwait(false))
        {
            row = _ctx.GetRow(sessionId);
        }

        if (SessionStatuses.IsEnded(row.Status))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} has already ended ({row.Status})");
        }

        // Suspended (or orphaned): no processes to stop, just end it, unless it changed meanwhile.
        var ended = false;
        await _ctx.Writer.WriteAsync(w =>
        {
            if (w.GetSession(sessionId) is { } current && !SessionStatuses.IsEnded(current.Status) && !_ctx.Registry.Contains(sessionId))
            {
                w.UpdateSession(current with { Status = SessionStatuses.Completed, StatusReason = "ended", EndedAt = w.Now, UpdatedAt = w.Now });
                w.Append(Events.Events.Status(sessionId, SessionStatuses.Completed, "ended", current.Status));
                ended = true;
            }

            return 0;
        }).ConfigureAwait(false);
        if (!ended)
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} changed while it was being ended; look at it again (session/get)");
        }

        _ctx.NotifyChanged(sessionId);
        await new SessionWorktrees(_ctx).FinishAsync(sessionId).ConfigureAwait(false);
        return _ctx.ViewStored(_ctx.GetRow(sessionId));
    }

    /// <summary>Deletes a session that does not run (its events and workers go too; its worktree if clean).</summary>
    public async Task<WorktreeOutcome?> DeleteAsync(string sessionId)
    {
        if (_ctx.Registry.Contains(sessionId))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is live; end it first (session/end)");
        }

        var row = _ctx.GetRow(sessionId);
        SessionRegistry.EnsureNotForeign(row);
        await _recovery.RecoverAsync(row).ConfigureAwait(false); // no process of it may outlive its row
        return await _cleanup.DeleteStoredAsync(sessionId).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<string>> ResetAsync(string workspace, string? provider) => _cleanup.ResetAsync(workspace, provider);

    public Task<CleanupResult> CleanupAsync(TimeSpan idle, TimeSpan? purgeOlderThan) => _cleanup.CleanupAsync(idle, purgeOlderThan);

    public Task<IReadOnlyList<string>> RecoverOrphansAsync() => _recovery.RecoverAllAsync();

    public Task<IReadOnlyList<SessionView>> ImportAsync(string workspace, string providerId) => _import.ImportAsync(workspace, providerId);

    /// <summary>Stops every live session (sidecar shutdown): they become <paramref name="status"/>.</summary>
    public Task StopAllAsync(string status, string reason) => _stopper.StopAllAsync(status, reason);

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync(SessionStatuses.Suspended, "shutdown").ConfigureAwait(false);
        _events.DetachAll(DetachReasons.Closed);
    }

    // Clear and chat.

    /// <summary><c>session/clear</c>: types the provider's clear command into the agent and moves the session on.</summary>
    public Task<(SessionView Previous, SessionView Current)> ClearAsync(string sessionId, CancellationToken cancellationToken) =>
        _transitions.ClearAsync(_ctx.Registry.GetLive(sessionId, _ctx.Store), cancellationToken);

    /// <summary>
    /// <c>chat/send</c>: types a message into the session's agent; completes when the turn ends. The
    /// provider's clear command is a clear (a transition, status <c>cleared</c>), not a turn.
    /// </summary>
    public async Task<TurnResult> SendChatAsync(string sessionId, string text, CancellationToken cancellationToken)
    {
        AgentInput.ValidateMessage(text);
        var live = _ctx.Registry.GetLive(sessionId, _ctx.Store);
        var chat = live.Chat ?? throw new SidecarException(SidecarError.InvalidState, $"provider '{live.Row.Provider}' has no chat; type into its terminal with worker/input");
        live.Touch(_ctx.Now());
        if (AgentInput.IsClearCommand(live, text))
        {
            var started = _ctx.Now();
            var (previous, current) = await _transitions.ClearAsync(live, cancellationToken).ConfigureAwait(false);
            return new TurnResult(string.Empty, TurnStatuses.Cleared, string.Empty, _ctx.Now() - started, current.Row.Id, null) { PreviousSessionId = previous.Row.Id };
        }

        return await chat.SendAsync(text, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>chat/approve</c>: answers a pending approval with one of its options, in the agent's own terminal.</summary>
    public Task<ChatApprovalData> ApproveAsync(string sessionId, string approvalId, string optionId, CancellationToken cancellationToken)
    {
        var live = _ctx.Registry.GetLive(sessionId, _ctx.Store);
        var chat = live.Chat ?? throw new SidecarException(SidecarError.InvalidState, $"provider '{live.Row.Provider}' has no chat, so nothing to approve");
        return chat.ApproveAsync(approvalId, optionId, cancellationToken);
    }

    public Task CancelChatAsync(string sessionId) =>
        _ctx.Registry.GetLive(sessionId, _ctx.Store).Chat?.CancelAsync() ?? Task.CompletedTask;

    /// <summary>The conversation of a session, from its chat events (oldest first, the last <paramref name="limit"/>).</summary>
    public List<ChatHistoryItem> ChatHistory(string sessionId, int limit)
    {
        _ = Get(sessionId);
        var messages = new List<ChatHistoryItem>();
        long after = 0;
        while (true)
        {
            var page = _ctx.Store.ReadEvents(sessionId, after, HistoryPage, [Channels.Chat]);
            foreach (var e in page.Where(e => e.Type is ChatEvents.UserType or ChatEvents.MessageType))
            {
                using var doc = JsonDocument.Parse(e.Data);
                var root = doc.RootElement;
                messages.Add(new ChatHistoryItem(root.GetProperty("turnId").GetString()!, e.Type == ChatEvents.UserType ? "user" : "assistant", root.GetProperty("text").GetString() ?? string.Empty, e.Ts, sessionId));
            }

            if (page.Count < HistoryPage)
            {
                break;
            }

            after = page[^1].Seq;
        }

        return messages.Count > limit ? messages[^limit..] : messages;
    }

    // Workers.

    /// <summary><c>worker/start</c>: a terminal beside the agent (<see cref="TerminalLauncher"/>).</summary>
    public Task<WorkerRow> StartWorkerAsync(StartWorkerRequest request) => _terminals.StartAsync(request);

    /// <summary><c>session/setTaskId</c>: sets or clears (null) the task id of a session, live or not (<see cref="SessionTaskIds"/>).</summary>
    public Task<SessionView> SetTaskIdAsync(string sessionId, string? taskId) => _taskIds.SetAsync(sessionId, taskId);

    public IReadOnlyList<WorkerRow> ListWorkers(string sessionId) =>
        _ctx.Registry.TryGet(sessionId, out var live) ? live.Workers.Select(w => w.Row).ToList() : _ctx.Store.ListWorkers(_ctx.GetRow(sessionId).Id);

    public WorkerRow GetWorker(string workerId) =>
        _ctx.Registry.TryGetWorker(workerId, out var w) ? w.Row
        : _ctx.Store.GetWorker(workerId) ?? throw new SidecarException(SidecarError.WorkerNotFound, $"worker '{workerId}' not found");

    public async Task<WorkerRow> StopWorkerAsync(string workerId)
    {
        var worker = _ctx.Registry.GetLiveWorker(workerId, _ctx.Store);
        if (worker.Process is { } p)
        {
            await p.StopAsync(_ctx.Options.StopGrace).ConfigureAwait(false);
        }

        await worker.ExitRecorded.Task.ConfigureAwait(false);
        return worker.Row;
    }

    /// <summary><c>worker/input</c>: keys for a worker's terminal.</summary>
    public Task InputAsync(string workerId, string data) => _input.KeysAsync(workerId, data);

    public async Task ResizeAsync(string workerId, int cols, int rows)
    {
        var worker = _ctx.Registry.GetLiveWorker(workerId, _ctx.Store);
        worker.Process!.Resize(cols, rows);
        worker.Row = worker.Row with { Cols = cols, Rows = rows };
        var row = worker.Row;
        await _ctx.Writer.WriteAsync(w =>
        {
            w.UpsertWorker(row);
            w.Append(Events.Events.Resize(worker.SessionId, workerId, cols, rows));
            return 0;
        }).ConfigureAwait(false);
    }

    /// <summary>The emulated screen of a running worker.</summary>
    public ScreenSnapshot Screen(string workerId)
    {
        var worker = _ctx.Registry.GetLiveWorker(workerId, _ctx.Store);
        return worker.Screen?.Snapshot() ?? throw new SidecarException(SidecarError.InvalidState, $"worker {workerId} has no screen");
    }

    // Events.

    /// <summary>
    /// Subscribes <paramref name="sink"/> to the session's events after <paramref name="afterSeq"/>.
    /// Call <see cref="Attachment.Start"/> once the caller is ready to receive them.
    /// </summary>
    public (Attachment Attachment, long LastSeq) Attach(string sessionId, long afterSeq, IReadOnlyCollection<string>? channels, IEventSink sink) =>
        _events.Attach(sessionId, afterSeq, channels, sink);

    public bool Detach(string attachId) => _events.Detach(attachId);

    public (List<StoredEvent> Events, long LastSeq, bool HasMore) ReadEvents(string sessionId, long afterSeq, int limit, IReadOnlyCollection<string>? channels) =>
        _events.Read(sessionId, afterSeq, limit, channels);
}

/// <summary>What <c>session/start</c> asks for, already validated for shape.</summary>
public sealed record StartSessionRequest
{
    public required string Workspace { get; init; }

    public required string Provider { get; init; }

    public string? Model { get; init; }

    public string? TaskId { get; init; }

    public string Kind { get; init; } = SessionKinds.Quick;

    public string? Title { get; init; }

    public bool Reuse { get; init; } = true;

    public int? Cols { get; init; }

    public int? Rows { get; init; }

    /// <summary>Extra MCP servers for the agent (providers with a <c>mcp</c> profile); a session with them is never reused.</summary>
    public IReadOnlyList<Providers.McpServerSpec>? McpServers { get; init; }

    /// <summary>The session this one takes the place of (another agent or model; <see cref="SessionReplacement"/>).</summary>
    public string? Replaces { get; init; }
}

public sealed record StartWorkerRequest
{
    public required string SessionId { get; init; }

    public string? Name { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public string? Cwd { get; init; }

    public int? Cols { get; init; }

    public int? Rows { get; init; }

    /// <summary>Added to the worker's environment as given (no expansion).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }
}
