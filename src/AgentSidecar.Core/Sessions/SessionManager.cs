using System.Collections.Concurrent;
using AgentSidecar.Core.Events;
using AgentSidecar.Core.Providers;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Sessions and their workers: the one place that starts and stops processes and records every
/// state change (row update and its event in one transaction). Knows nothing of JSON-RPC.
/// </summary>
public sealed partial class SessionManager : IAsyncDisposable
{
    private readonly SidecarOptions _options;
    private readonly SidecarStore _store;
    private readonly StoreWriter _writer;
    private readonly EventHub _hub;
    private readonly ProviderRegistry _providers;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly IReadOnlyDictionary<string, string> _baseEnvironment;
    private readonly ConcurrentDictionary<string, LiveSession> _live = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LiveWorker> _workers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Attachment> _attachments = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private long _nextAttachId;

    public SessionManager(SidecarOptions options, SidecarStore store, StoreWriter writer, EventHub hub, ProviderRegistry providers, TimeProvider clock, ILogger<SessionManager> logger, IReadOnlyDictionary<string, string> environment)
    {
        _options = options;
        _store = store;
        _writer = writer;
        _hub = hub;
        _providers = providers;
        _clock = clock;
        _logger = logger;
        _baseEnvironment = environment;
    }

    /// <summary>Raised after every committed change of a session's state or workers.</summary>
    public event Action<SessionView>? SessionChanged;

    /// <summary>Asks the metrics sync to send now (after an END or a transition).</summary>
    public Action? MetricsTrigger { get; set; }

    /// <summary>The unix socket clients can reach this sidecar on (recorded as the owner's address).</summary>
    public string? OwnerSocket { get; set; }

    public int LiveCount => _live.Count;

    public async Task<SessionView> StartAsync(StartSessionRequest request, CancellationToken cancellationToken)
    {
        var workspace = ValidateWorkspace(request.Workspace);
        var entry = _providers.FindEntry(request.Provider)
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"unknown provider '{request.Provider}'; known: {string.Join(", ", _providers.All.Select(p => p.Id))}");
        var provider = entry.Profile
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{request.Provider}' is unusable: {entry.Error}");
        if (request.Kind is not ("quick" or "worktree"))
        {
            throw new SidecarException(SidecarError.InvalidArgument, $"session kind '{request.Kind}' is unknown; use 'quick' or 'worktree'", new Dictionary<string, object?> { ["field"] = "kind" });
        }

        var command = _providers.Expand(provider.Command);
        var resolved = _providers.Resolve(command)
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{provider.Id}' is not available: command '{command}' was not found in PATH", new Dictionary<string, object?> { ["command"] = command });
        var key = $"{provider.Id}:{workspace}:{request.Model ?? string.Empty}";

        // One start at a time, so two clients asking for the same key get the same session.
        await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A worktree session is a new worktree each time; a quick one is shared per key.
            if (request.Reuse && request.Kind == "quick" && _live.Values.FirstOrDefault(s => s.Row.Key == key && s.Row.Kind == "quick" && !s.Stopping) is { } existing)
            {
                return View(existing);
            }

            var now = Now();
            var row = new SessionRow
            {
                Id = NewId(),
                Key = key,
                Workspace = workspace,
                Provider = provider.Id,
                Model = request.Model,
                TaskId = request.TaskId,
                Kind = request.Kind,
                Status = "created",
                Title = request.Title,
                CreatedAt = now,
                UpdatedAt = now,
                OwnerPid = ProcessInfo.CurrentPid,
                OwnerStart = ProcessInfo.CurrentStartTime,
                OwnerSocket = OwnerSocket,
                Cols = request.Cols ?? _options.DefaultCols,
                Rows = request.Rows ?? _options.DefaultRows,
                LastActivityAt = now,
            };
            if (request.Kind == "worktree")
            {
                var worktree = await Worktrees.CreateAsync(workspace, Path.Combine(_options.DataDir, "worktrees"), row.Id, cancellationToken).ConfigureAwait(false);
                row = row with { WorktreePath = worktree.Path, WorktreeBranch = worktree.Branch, WorktreeBase = worktree.BaseCommit, WorktreeState = "active" };
            }

            // The one start path: the row, its first event and the START metric in one commit.
            await _writer.WriteAsync(ctx =>
            {
                ctx.InsertSession(row);
                ctx.Append(Events.Events.Status(row.Id, "created", null, null));
                if (row.WorktreePath is { } wt)
                {
                    ctx.Append(Events.Events.Worktree(row.Id, "created", wt, row.WorktreeBranch, null));
                }

                Metrics.MetricsRecords.Start(ctx, row);
                return 0;
            }).ConfigureAwait(false);

            var live = new LiveSession(row);
            _hub.Stream(row.Id, 1);
            _live[row.Id] = live;
            var launched = await LaunchAsync(live, provider, resolved, command, null, null).ConfigureAwait(false);
            if (launched is null)
            {
                return ViewStored(GetRow(live.Id));
            }

            await SetStatusAsync(live, "active", null).ConfigureAwait(false);
            return View(live);
        }
        finally
        {
            _startGate.Release();
        }
    }

    public SessionView Get(string sessionId) =>
        _live.TryGetValue(sessionId, out var live) ? View(live) : ViewStored(GetRow(sessionId));

    public (List<SessionView> Sessions, SessionRow? Last) List(SessionQuery query)
    {
        var rows = _store.ListSessions(query with { Limit = query.Limit + 1 });
        var hasMore = rows.Count > query.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var workers = _store.ListWorkers(rows.Select(r => r.Id));
        var views = rows.Select(r => _live.TryGetValue(r.Id, out var live)
            ? View(live)
            : new SessionView(r, workers.GetValueOrDefault(r.Id) ?? [], false, false)).ToList();
        return (views, hasMore ? rows[^1] : null);
    }

    /// <summary>Stops every worker and marks the session completed.</summary>
    public async Task<SessionView> EndAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!_live.TryGetValue(sessionId, out var live))
        {
            var row = GetRow(sessionId);
            EnsureNotForeign(row);
            if (row.Status is "created" or "active" && await RecoverOrphanAsync(row).ConfigureAwait(false))
            {
                row = GetRow(sessionId);
            }

            if (row.Status is "completed" or "failed")
            {
                throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} has already ended ({row.Status})");
            }

            // Suspended (or orphaned): no processes to stop, just end it.
            var ended = row with { Status = "completed", StatusReason = "ended", EndedAt = Now(), UpdatedAt = Now() };
            await _writer.WriteAsync(ctx =>
            {
                ctx.UpdateSession(ended);
                ctx.Append(Events.Events.Status(row.Id, "completed", "ended", row.Status));
                return 0;
            }).ConfigureAwait(false);
            SessionChanged?.Invoke(ViewStored(GetRow(sessionId)));
            await FinishWorktreeAsync(sessionId).ConfigureAwait(false);
            return ViewStored(GetRow(sessionId));
        }

        await StopSessionAsync(live, "completed", "ended", Metrics.MetricsRecords.Exit, graceful: true).ConfigureAwait(false);
        return ViewStored(GetRow(sessionId));
    }

    /// <summary>Deletes a session that does not run (its events and workers go too; its worktree if clean).</summary>
    public async Task<WorktreeOutcome?> DeleteAsync(string sessionId)
    {
        if (_live.ContainsKey(sessionId))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is live; end it first (session/end)");
        }

        var row = GetRow(sessionId);
        EnsureNotForeign(row);
        await RecoverOrphanAsync(row).ConfigureAwait(false); // no process of it may outlive its row
        return await DeleteStoredAsync(sessionId).ConfigureAwait(false);
    }

    /// <summary>Stops every live session (sidecar shutdown): they become suspended.</summary>
    public async Task StopAllAsync(string status, string reason)
    {
        await Task.WhenAll(_live.Values.Select(s => StopSessionAsync(s, status, reason, status == "suspended" ? Metrics.MetricsRecords.Suspend : Metrics.MetricsRecords.Exit, graceful: true))).ConfigureAwait(false);
        await _writer.FlushAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync("suspended", "shutdown").ConfigureAwait(false);
        foreach (var a in _attachments.Values)
        {
            a.Stop(DetachReasons.Closed);
        }
    }

    /// <summary>How long after the user typed into an agent its new transcript is still expected.</summary>
    private const int TranscriptExpectMs = 60_000;

    private readonly Chat.TranscriptClaims _transcriptClaims = new();

    private Chat.TranscriptWatcher? CreateTranscriptWatcher(LiveSession live, LiveWorker agent, Providers.ProviderProfile provider, string? resumeAgentSessionId)
    {
        if (provider.Transcript is not { Reader.Length: > 0 } t)
        {
            return null;
        }

        Chat.ChatController? Chat() => live.Chat;
        return new Chat.TranscriptWatcher(
            t.Reader,
            _providers.Expand(t.Dir, provider.Env),
            AgentCwd(live.Row),
            DateTimeOffset.FromUnixTimeMilliseconds(agent.Row.CreatedAt),
            resumeAgentSessionId,
            _transcriptClaims,
            () => agent.SessionId,
            () => agent.Process is { HasExited: false } p ? p.Pid : null,
            () => Chat()?.Busy == true || Now() - agent.LastInputAt < TranscriptExpectMs,
            _clock);
    }

    /// <summary>Where the session's agent runs: its worktree, else the workspace.</summary>
    internal static string AgentCwd(SessionRow row) =>
        row.WorktreePath is { } wt && row.WorktreeState is "active" && Directory.Exists(wt) ? wt : row.Workspace;

    internal static string NewId() => Guid.CreateVersion7().ToString("N");

    private long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private static string ValidateWorkspace(string workspace)
    {
        if (!Path.IsPathFullyQualified(workspace))
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"workspace '{workspace}' is not an absolute path");
        }

        if (!Directory.Exists(workspace))
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"workspace '{workspace}' does not exist or is not a directory");
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(workspace)) is { Length: > 0 } w ? w : "/";
    }

    private SessionRow GetRow(string sessionId) =>
        _store.GetSession(sessionId) ?? throw new SidecarException(SidecarError.SessionNotFound, $"session '{sessionId}' not found");

    /// <summary>A session that is live in another running sidecar is that sidecar's to change.</summary>
    private static void EnsureNotForeign(SessionRow row)
    {
        if (row.Status is "created" or "active" && row.OwnerPid is { } pid && row.OwnerStart is { } start
            && (pid != ProcessInfo.CurrentPid || start != ProcessInfo.CurrentStartTime) && ProcessInfo.IsAlive(pid, start))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {row.Id} is owned by another running sidecar (pid {pid}); connect to it at {row.OwnerSocket ?? "its socket"}", new Dictionary<string, object?>
            {
                ["owner"] = new Dictionary<string, object?> { ["pid"] = pid, ["startTime"] = start, ["socket"] = row.OwnerSocket },
            });
        }
    }

    private SessionView View(LiveSession live)
    {
        var row = live.Row with { LastSeq = _hub.TryGet(live.Id)?.CommittedSeq ?? live.Row.LastSeq };
        return new SessionView(row, live.Workers.Select(w => w.Row).ToList(), live.Chat?.Busy ?? false, true);
    }

    private SessionView ViewStored(SessionRow row) => new(row, _store.ListWorkers(row.Id), false, false);
}
