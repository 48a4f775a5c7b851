using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

/// <summary>What <c>session/reset</c> and <c>session/cleanup</c> did.</summary>
public sealed record CleanupResult(IReadOnlyList<string> Ended, IReadOnlyList<string> Purged);

public sealed partial class SessionManager
{
    /// <summary>Sessions purged per cleanup call at most (the next run takes the rest).</summary>
    private const int PurgeBatch = 500;

    /// <summary>
    /// Spawns the session's agent (fresh, or resuming <paramref name="resumeAgentSessionId"/>), wires
    /// chat to it and waits until it is ready. Returns the agent, or null when it did not start: the
    /// session is then failed (a new session) or suspended again (a resume), with the reason recorded.
    /// </summary>
    private async Task<LiveWorker?> LaunchAsync(LiveSession live, ProviderProfile provider, string resolved, string command, string? resumeAgentSessionId, WorkerRow? previousAgent)
    {
        var row = live.Row;
        var resuming = previousAgent is not null;
        var args = provider.Args.Select(_providers.Expand).ToList();
        if (resumeAgentSessionId is { } resumeId && provider.ResumeArgs.Count > 0)
        {
            args.AddRange(provider.ResumeArgs.Select(a => a.Replace("{agentSessionId}", resumeId, StringComparison.Ordinal)));
        }

        if (row.Model is { } model && provider.ModelArgs.Count > 0)
        {
            args.AddRange(provider.ModelArgs.Select(a => a.Replace("{model}", model, StringComparison.Ordinal)));
        }

        live.Profile = provider;
        LiveWorker agent;
        try
        {
            agent = await SpawnWorkerAsync(live, "agent", previousAgent?.Name ?? provider.Id, resolved, args, AgentCwd(row), row.Cols, row.Rows, provider.Env, previousAgent?.Id).ConfigureAwait(false);
        }
        catch (PtyStartException ex)
        {
            await GiveUpAsync(live, resuming, $"cannot start '{command}': {ex.Message}", null).ConfigureAwait(false);
            throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{provider.Id}' could not start '{command}': {ex.Message}", new Dictionary<string, object?> { ["command"] = command });
        }

        if (!provider.IsAgent)
        {
            return agent;
        }

        var transcript = CreateTranscriptWatcher(live, agent, provider, resumeAgentSessionId);
        var chat = new Chat.ChatController(live, agent, agent.Screen!, provider, _writer, _clock, transcript, () => SessionChanged?.Invoke(View(live)), id => _ = SetAgentSessionIdAsync(live, id), _logger);
        live.Chat = chat;
        var timeout = TimeSpan.FromSeconds(provider.ReadyTimeoutSeconds);
        if (await chat.WaitReadyAsync(timeout).ConfigureAwait(false))
        {
            return agent;
        }

        if (_live.ContainsKey(live.Id))
        {
            // Not ready in time (or it exited first): the session stops with what the agent showed.
            await GiveUpAsync(live, resuming, $"the {provider.DisplayName} agent was not ready within {timeout.TotalSeconds:0} s", agent).ConfigureAwait(false);
        }

        return null;
    }

    private async Task GiveUpAsync(LiveSession live, bool resuming, string message, LiveWorker? agent)
    {
        await _writer.AppendAsync(Events.Events.Error(live.Id, agent?.Id, message, resuming ? "resume" : "start", agent is null ? null : ScreenTail(agent))).ConfigureAwait(false);
        if (resuming)
        {
            await StopSessionAsync(live, "suspended", $"resume failed: {message}", null).ConfigureAwait(false);
        }
        else
        {
            await StopSessionAsync(live, "failed", message, MetricsRecords.Failed).ConfigureAwait(false);
        }
    }

    /// <summary><c>session/suspend</c>: the agent quits gracefully, every worker stops, the session waits to be resumed.</summary>
    public async Task<SessionView> SuspendAsync(string sessionId)
    {
        var live = GetLive(sessionId);
        if (live.Chat is { Busy: true })
        {
            throw new SidecarException(SidecarError.SessionBusy, $"session {sessionId} is running a turn; wait for it or cancel it (chat/cancel) before suspending", new Dictionary<string, object?> { ["sessionId"] = sessionId });
        }

        await StopSessionAsync(live, "suspended", "suspended", MetricsRecords.Suspend, graceful: true).ConfigureAwait(false);
        return ViewStored(GetRow(sessionId));
    }

    /// <summary>
    /// <c>session/resume</c>: starts the agent again on the same conversation (the provider's resume
    /// arguments and the recorded agent session id) and the shells that ran when it was suspended.
    /// A session whose sidecar died is recovered first.
    /// </summary>
    public async Task<SessionView> ResumeAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (_live.ContainsKey(sessionId))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is already active here; only suspended sessions resume");
        }

        var row = GetRow(sessionId);
        EnsureNotForeign(row);
        if (row.Status is "created" or "active")
        {
            await RecoverOrphanAsync(row).ConfigureAwait(false);
            row = GetRow(sessionId);
        }

        if (row.Status != "suspended")
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is {row.Status}; only suspended sessions resume (start a new one with session/start)");
        }

        var entry = _providers.FindEntry(row.Provider)
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{row.Provider}' of session {sessionId} is not configured any more");
        var provider = entry.Profile
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{row.Provider}' is unusable: {entry.Error}");
        var command = _providers.Expand(provider.Command);
        var resolved = _providers.Resolve(command)
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{provider.Id}' is not available: command '{command}' was not found in PATH", new Dictionary<string, object?> { ["command"] = command });
        if (!Directory.Exists(row.Workspace))
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"workspace '{row.Workspace}' of session {sessionId} does not exist any more");
        }

        await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            row = GetRow(sessionId);
            if (_live.ContainsKey(sessionId) || row.Status != "suspended")
            {
                throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is {(_live.ContainsKey(sessionId) ? "already active" : row.Status)}; only suspended sessions resume");
            }

            var workers = _store.ListWorkers(sessionId);
            var now = Now();
            var resumed = row with
            {
                OwnerPid = ProcessInfo.CurrentPid,
                OwnerStart = ProcessInfo.CurrentStartTime,
                OwnerSocket = OwnerSocket,
                UpdatedAt = now,
                LastActivityAt = now,
            };
            var live = new LiveSession(resumed);
            _hub.Stream(sessionId, row.LastSeq);
            _live[sessionId] = live;
            await _writer.WriteAsync(ctx =>
            {
                ctx.UpdateSession(resumed);
                return 0;
            }).ConfigureAwait(false);

            var previousAgent = workers.LastOrDefault(w => w.Kind == "agent");
            LiveWorker? agent;
            try
            {
                agent = await LaunchAsync(live, provider, resolved, command, row.AgentSessionId, previousAgent ?? new WorkerRow
                {
                    Id = NewId(), SessionId = sessionId, Kind = "agent", Name = provider.Id, Command = resolved, Cwd = AgentCwd(row), Status = "exited",
                }).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not SidecarException)
            {
                // Never leave a half-resumed session live: it goes back to suspended with the reason.
                await StopSessionAsync(live, "suspended", $"resume failed: {ex.Message}", null).ConfigureAwait(false);
                throw;
            }

            if (agent is null)
            {
                return ViewStored(GetRow(sessionId));
            }

            // Active again: a new tracking period (START), then the shells that ran at suspend time.
            var previous = live.Row.Status;
            live.Row = live.Row with { Status = "active", StatusReason = "resumed", UpdatedAt = Now() };
            var active = live.Row;
            await _writer.WriteAsync(ctx =>
            {
                ctx.UpdateSession(active);
                ctx.Append(Events.Events.Status(active.Id, "active", "resumed", previous));
                MetricsRecords.Start(ctx, active);
                return 0;
            }).ConfigureAwait(false);
            foreach (var w in workers.Where(w => w.Kind == "terminal" && w.Resume))
            {
                await RestartTerminalAsync(live, w).ConfigureAwait(false);
            }

            SessionChanged?.Invoke(View(live));
            return View(live);
        }
        finally
        {
            _startGate.Release();
        }
    }

    private async Task RestartTerminalAsync(LiveSession live, WorkerRow w)
    {
        var cwd = Directory.Exists(w.Cwd) ? w.Cwd : AgentCwd(live.Row);
        try
        {
            await SpawnWorkerAsync(live, "terminal", w.Name, w.Command, w.Args, cwd, w.Cols, w.Rows, null, w.Id).ConfigureAwait(false);
        }
        catch (PtyStartException ex)
        {
            // One shell that cannot start again does not stop the session: it is reported and left exited.
            await _writer.AppendAsync(Events.Events.Error(live.Id, w.Id, $"cannot restart '{w.Command}' in {cwd}: {ex.Message}", "resume")).ConfigureAwait(false);
            var row = w with { Resume = false };
            await _writer.WriteAsync(ctx =>
            {
                ctx.UpsertWorker(row);
                return 0;
            }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <c>session/reset</c>: ends every live session of <paramref name="workspace"/> (of one provider, or
    /// all) at once. If any is running a turn, nothing is ended and 1003 names the busy ones.
    /// </summary>
    public async Task<IReadOnlyList<string>> ResetAsync(string workspace, string? provider)
    {
        var ws = ValidateWorkspace(workspace);
        var matching = _live.Values
            .Where(s => s.Row.Workspace == ws && (provider is null || s.Row.Provider == provider) && !s.Stopping)
            .ToList();

        // Atomic: hold every matching session's turns closed while checking, so none starts meanwhile.
        var held = new List<Chat.ChatController>();
        var busy = new List<string>();
        foreach (var s in matching)
        {
            if (s.Chat is not { } chat)
            {
                continue;
            }

            if (chat.TryHoldTurns())
            {
                held.Add(chat);
            }
            else
            {
                busy.Add(s.Id);
            }
        }

        if (busy.Count > 0)
        {
            foreach (var chat in held)
            {
                chat.ReleaseTurns();
            }

            throw new SidecarException(SidecarError.SessionBusy, $"{busy.Count} session(s) are running a turn: {string.Join(", ", busy)}; nothing was reset (cancel the turns or wait, then reset again)", new Dictionary<string, object?> { ["busy"] = busy });
        }

        await Task.WhenAll(matching.Select(s => StopSessionAsync(s, "completed", "reset", MetricsRecords.Reset, graceful: true))).ConfigureAwait(false);

        return matching.Select(s => s.Id).ToList();
    }

    /// <summary>
    /// <c>session/cleanup</c>: suspends live sessions idle for longer than <paramref name="idle"/> (not
    /// running a turn) and deletes ended sessions older than <paramref name="purgeOlderThan"/>.
    /// </summary>
    public async Task<CleanupResult> CleanupAsync(TimeSpan idle, TimeSpan? purgeOlderThan)
    {
        var now = Now();
        var idleCutoff = now - (long)idle.TotalMilliseconds;
        var suspended = new List<string>();
        foreach (var live in _live.Values.ToList())
        {
            if (live.Stopping || live.Row.Status != "active" || Math.Max(live.Row.LastActivityAt, LastOutputAt(live)) > idleCutoff || live.Chat is { } chat && !chat.TryHoldTurns())
            {
                continue;
            }

            await StopSessionAsync(live, "suspended", "idle", MetricsRecords.Cleanup, graceful: true).ConfigureAwait(false);
            suspended.Add(live.Id);
        }

        var purged = new List<string>();
        if (purgeOlderThan is { } age)
        {
            foreach (var id in _store.EndedBefore(now - (long)age.TotalMilliseconds, PurgeBatch))
            {
                if (_live.ContainsKey(id))
                {
                    continue;
                }

                await DeleteStoredAsync(id).ConfigureAwait(false);
                purged.Add(id);
            }
        }

        return new CleanupResult(suspended, purged);
    }

    private static long LastOutputAt(LiveSession live) =>
        live.Workers.Select(w => w.LastOutputAt).DefaultIfEmpty(0).Max();

    /// <summary>
    /// Finds sessions whose sidecar is gone (it crashed or was killed), kills what is left of their
    /// processes (pid and start time must match, so a reused pid is never hit; the whole process
    /// group and session go) and marks them suspended with reason <c>owner-lost</c>: resumable.
    /// </summary>
    public async Task<IReadOnlyList<string>> RecoverOrphansAsync()
    {
        var recovered = new List<string>();
        var candidates = _store.ListSessions(new SessionQuery { Statuses = ["created", "active"], Limit = 10_000 });
        foreach (var row in candidates)
        {
            if (_live.ContainsKey(row.Id) || OwnerAlive(row))
            {
                continue;
            }

            if (await RecoverOrphanAsync(row).ConfigureAwait(false))
            {
                recovered.Add(row.Id);
            }
        }

        return recovered;
    }

    private static bool OwnerAlive(SessionRow row) =>
        row.OwnerPid is { } pid && row.OwnerStart is { } start
        && ((pid == ProcessInfo.CurrentPid && start == ProcessInfo.CurrentStartTime) || ProcessInfo.IsAlive(pid, start));

    private async Task<bool> RecoverOrphanAsync(SessionRow row)
    {
        if (_live.ContainsKey(row.Id) || OwnerAlive(row))
        {
            return false;
        }

        var workers = _store.ListWorkers(row.Id);
        var killed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in workers.Where(w => w.Status == "running" && w.Pid is not null && w.PidStart is not null))
        {
            if (KillLeftover(w.Pid!.Value, w.PidStart!.Value))
            {
                killed.Add(w.Id);
            }
        }

        var now = Now();
        var recovered = false;
        await _writer.WriteAsync(ctx =>
        {
            // Another sidecar may have recovered it meanwhile: change it only as we found it.
            var current = ctx.GetSession(row.Id);
            if (current is null || current.Status is not ("created" or "active") || current.OwnerPid != row.OwnerPid || current.OwnerStart != row.OwnerStart)
            {
                return 0;
            }

            foreach (var w in workers.Where(w => w.Status == "running"))
            {
                ctx.UpsertWorker(w with { Status = "exited", Signal = killed.Contains(w.Id) ? ProcessInfo.SigKill : null, ExitedAt = now, Resume = true });
                ctx.Append(Events.Events.Exit(row.Id, w.Id, null, killed.Contains(w.Id) ? ProcessInfo.SigKill : null, "owner-lost"));
            }

            // A turn that was running when the sidecar died can never end now: say so in the log,
            // so clients do not show it as running forever.
            if (Chat.ChatEvents.CloseOpenTurn(ctx, row.Id, "owner-lost") is { } closed)
            {
                ctx.Append(closed);
            }

            var suspended = current with { Status = "suspended", StatusReason = "owner-lost", UpdatedAt = now };
            ctx.UpdateSession(suspended);
            ctx.Append(Events.Events.Status(row.Id, "suspended", "owner-lost", current.Status));
            MetricsRecords.End(ctx, suspended with { EndedAt = now }, MetricsRecords.Suspend);
            recovered = true;
            return 0;
        }).ConfigureAwait(false);
        if (recovered)
        {
            LogOrphanRecovered(_logger, row.Id, row.OwnerPid ?? 0, killed.Count);
            _hub.TryGet(row.Id)?.Wake();
            SessionChanged?.Invoke(ViewStored(GetRow(row.Id)));
            MetricsTrigger?.Invoke();
        }

        return recovered;
    }

    /// <summary>
    /// Kills what is left of a worker's terminal session: its leader if it is still the same process
    /// (pid and start time), and any process still in that session (also after the leader died, e.g.
    /// a background job that ignored SIGHUP; a reused pid never matches). True if anything was there.
    /// </summary>
    private static bool KillLeftover(int pid, long startTime)
    {
        if (ProcessInfo.SignalOrphanedSession(pid, startTime, ProcessInfo.SigKill) == 0)
        {
            return false;
        }

        for (var i = 0; i < 100 && ProcessInfo.SignalOrphanedSession(pid, startTime, ProcessInfo.SigKill) > 0; i++)
        {
            Thread.Sleep(10);
        }

        return true;
    }

    /// <summary>Deletes a stored session that does not run; its worktree goes if clean.</summary>
    private async Task<WorktreeOutcome?> DeleteStoredAsync(string sessionId)
    {
        var outcome = await FinishWorktreeAsync(sessionId).ConfigureAwait(false);
        await _writer.WriteAsync(ctx =>
        {
            ctx.DeleteSession(sessionId);
            return 0;
        }).ConfigureAwait(false);
        foreach (var a in _attachments.Values.Where(a => a.SessionId == sessionId))
        {
            a.Stop(Events.DetachReasons.Deleted);
        }

        _hub.Remove(sessionId);
        return outcome;
    }

    /// <summary>
    /// An ended (or deleted) worktree session: the worktree is removed if it is clean (no uncommitted
    /// or untracked changes), else kept and reported. Its branch goes too unless it has new commits.
    /// </summary>
    private async Task<WorktreeOutcome?> FinishWorktreeAsync(string sessionId)
    {
        var row = _store.GetSession(sessionId);
        if (row is not { WorktreeState: "active", WorktreePath: { } path })
        {
            return null;
        }

        WorktreeOutcome outcome;
        try
        {
            outcome = await Worktrees.RemoveIfCleanAsync(row.Workspace, path, row.WorktreeBranch, row.WorktreeBase, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SidecarException ex)
        {
            outcome = new WorktreeOutcome(path, row.WorktreeBranch, false, ex.Message, true);
        }

        var state = outcome.Removed ? "removed" : "kept";
        await _writer.WriteAsync(ctx =>
        {
            if (ctx.GetSession(sessionId) is { } current)
            {
                ctx.UpdateSession(current with { WorktreeState = state, UpdatedAt = ctx.Now });
                ctx.Append(Events.Events.Worktree(sessionId, outcome.Removed ? "removed" : "kept", outcome.Path, outcome.Branch, outcome.Reason));
            }

            return 0;
        }).ConfigureAwait(false);
        SessionChanged?.Invoke(ViewStored(GetRow(sessionId)));
        return outcome;
    }

    /// <summary>
    /// <c>session/import</c>: the agent's own conversations for <paramref name="workspace"/> (from its
    /// transcript files), each recorded once as a suspended session with its messages as chat history,
    /// ready to resume. Conversations already recorded are returned as they are.
    /// </summary>
    public async Task<IReadOnlyList<SessionView>> ImportAsync(string workspace, string providerId)
    {
        var ws = ValidateWorkspace(workspace);
        var entry = _providers.FindEntry(providerId)
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"unknown provider '{providerId}'; known: {string.Join(", ", _providers.All.Select(p => p.Id))}");
        var provider = entry.Profile
            ?? throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{providerId}' is unusable: {entry.Error}");
        if (provider.Transcript is not { Reader.Length: > 0 } t)
        {
            throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{providerId}' keeps no transcripts, so there is nothing to import");
        }

        var result = new List<SessionView>();
        foreach (var file in Transcripts.TranscriptLocator.ListForWorkspace(t.Reader, _providers.Expand(t.Dir, provider.Env), ws))
        {
            if (file.AgentSessionId is not { Length: > 0 } agentId)
            {
                continue;
            }

            if (_store.FindByAgentSession(provider.Id, agentId) is { } known)
            {
                result.Add(Get(known.Id));
                continue;
            }

            var created = file.Created.ToUnixTimeMilliseconds();
            var now = Now();
            var row = new SessionRow
            {
                Id = NewId(),
                Key = $"{provider.Id}:{ws}:",
                Workspace = ws,
                Provider = provider.Id,
                Kind = "quick",
                Status = "suspended",
                StatusReason = "imported",
                Title = Title(file.FirstUserMessage),
                CreatedAt = created,
                UpdatedAt = now,
                AgentSessionId = agentId,
                Cols = _options.DefaultCols,
                Rows = _options.DefaultRows,
                LastActivityAt = created,
            };
            var items = ReadWholeTranscript(t.Reader, file.Path);
            await _writer.WriteAsync(ctx =>
            {
                ctx.InsertSession(row);
                ctx.Append(Events.Events.Status(row.Id, "suspended", "imported", null));
                var turn = 0;
                foreach (var item in items)
                {
                    switch (item)
                    {
                        case Transcripts.UserMessage u:
                            turn++;
                            ctx.Append(Chat.ChatEvents.User(row.Id, $"import-{turn}", u.Text, "import"));
                            break;
                        case Transcripts.AssistantMessage a:
                            ctx.Append(Chat.ChatEvents.Message(row.Id, $"import-{Math.Max(turn, 1)}", a.Text, "import"));
                            break;
                    }
                }

                return 0;
            }).ConfigureAwait(false);
            var view = ViewStored(GetRow(row.Id));
            SessionChanged?.Invoke(view);
            result.Add(view);
        }

        return result;
    }

    private static IReadOnlyList<Transcripts.TranscriptItem> ReadWholeTranscript(string kind, string path)
    {
        try
        {
            return Transcripts.TranscriptReaders.Open(kind, path).ReadNew();
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static string? Title(string? firstMessage)
    {
        if (firstMessage is null)
        {
            return null;
        }

        var line = firstMessage.Split('\n', 2)[0].Trim();
        return line.Length <= 80 ? line : string.Concat(line.AsSpan(0, 77), "...");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "session {SessionId} lost its sidecar (pid {OwnerPid}): {Killed} leftover process(es) killed, now suspended")]
    private static partial void LogOrphanRecovered(ILogger logger, string sessionId, int ownerPid, int killed);
}
