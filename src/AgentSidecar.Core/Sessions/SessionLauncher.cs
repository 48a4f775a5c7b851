using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Providers;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Where a session starts: a new session (<c>session/start</c>), a suspended one again
/// (<c>session/resume</c>), and the launch of the agent they share.
/// </summary>
internal sealed class SessionLauncher(SessionContext ctx, WorkerSpawner spawner, SessionStopper stopper, OrphanRecovery recovery, ChatWiring chat, SessionReplacement replacement)
{
    /// <summary>One start at a time, so two clients asking for the same key get the same session.</summary>
    private SemaphoreSlim StartGate { get; } = new(1, 1);

    public async Task<SessionView> StartAsync(StartSessionRequest request, CancellationToken cancellationToken)
    {
        var workspace = Workspace.Validate(request.Workspace);
        var provider = ProviderResolver.Resolve(ctx.Providers, request.Provider);
        if (request.Kind is not (SessionKinds.Quick or SessionKinds.Worktree))
        {
            throw new SidecarException(SidecarError.InvalidArgument, $"session kind '{request.Kind}' is unknown; use 'quick' or 'worktree'", new Dictionary<string, object?> { ["field"] = "kind" });
        }

        var replaced = request.Replaces is { } replacesId ? replacement.Check(replacesId, workspace, request.Kind) : null;
        var mcpServers = request.McpServers is { Count: > 0 } m ? SessionMcpServers.Checked(provider.Profile, m)
            : replaced is not null && provider.Profile.Mcp is not null ? SessionMcpServers.Saved(ctx.Options.DataDir, ctx.Store, replaced)
            : null;
        var key = $"{provider.Profile.Id}:{workspace}:{request.Model ?? string.Empty}";
        LiveSession started;
        await StartGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A worktree session is a new worktree each time; a quick one is shared per key.
            // An agent started without these MCP servers cannot take them: a new one is started.
            if (request.Reuse && request.Kind == SessionKinds.Quick && mcpServers is null && replaced is null
                && ctx.Registry.Sessions.FirstOrDefault(s => s.Row.Key == key && s.Row.Kind == SessionKinds.Quick && !s.Stopping) is { } existing)
            {
                return ctx.View(existing);
            }

            EnsureRoomForASession();
            var now = ctx.Now();
            var row = new SessionRow
            {
                Id = SessionIds.New(),
                Key = key,
                Workspace = workspace,
                Provider = provider.Profile.Id,
                Model = request.Model,
                TaskId = request.TaskId ?? replaced?.TaskId,
                Kind = request.Kind,
                Status = SessionStatuses.Created,
                Title = request.Title,
                CreatedAt = now,
                UpdatedAt = now,
                OwnerPid = ProcessInfo.CurrentPid,
                OwnerStart = ProcessInfo.CurrentStartTime,
                OwnerSocket = ctx.OwnerSocket,
                Cols = request.Cols ?? ctx.Options.DefaultCols,
                Rows = request.Rows ?? ctx.Options.DefaultRows,
                LastActivityAt = now,
            };
            if (request.Kind == SessionKinds.Worktree)
            {
                var worktree = await Worktrees.CreateAsync(workspace, Path.Combine(ctx.Options.DataDir, "worktrees"), row.Id, cancellationToken).ConfigureAwait(false);
                row = row with { WorktreePath = worktree.Path, WorktreeBranch = worktree.Branch, WorktreeBase = worktree.BaseCommit, WorktreeState = WorktreeStates.Active };
            }

            // The row, its first event and the START metric in one commit.
            await ctx.Writer.WriteAsync(w =>
            {
                w.InsertSession(row);
                w.Append(Events.Events.Status(row.Id, SessionStatuses.Created, null, null));
                if (row.WorktreePath is { } wt)
                {
                    w.Append(Events.Events.Worktree(row.Id, "created", wt, row.WorktreeBranch, null));
                }

                MetricsRecords.Start(w, row);
                return 0;
            }).ConfigureAwait(false);

            if (mcpServers is not null)
            {
                McpServers.Save(ctx.Options.DataDir, row.Id, mcpServers);
            }

            var live = new LiveSession(row) { Tracking = true };
            ctx.Hub.Stream(row.Id, 1);
            ctx.Registry.Add(live);
            if (await LaunchAsync(live, provider, null, null, cancellationToken).ConfigureAwait(false) is null
                || !await ActivateAsync(live, null, writeStart: false).ConfigureAwait(false))
            {
                return ctx.ViewStored(ctx.GetRow(live.Id));
            }

            started = live;
        }
        finally
        {
            StartGate.Release();
        }

        // Outside the gate: the replaced agent's graceful quit must not hold up other starts.
        if (replaced is not null)
        {
            await replacement.TakeOverAsync(replaced.Id, started).ConfigureAwait(false);
        }

        return ctx.View(started);
    }

    /// <summary>
    /// Starts the agent again on the same conversation (the provider's resume arguments and the
    /// recorded agent session id) and the shells that ran when it was suspended. A session whose
    /// sidecar died is recovered first; an ended one is continued (<see cref="SessionContinuation"/>).
    /// </summary>
    public async Task<SessionView> ResumeAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (ctx.Registry.Contains(sessionId))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is already active here; only suspended sessions resume");
        }

        var row = ctx.GetRow(sessionId);
        SessionRegistry.EnsureNotForeign(row);
        if (SessionStatuses.IsRunning(row.Status))
        {
            await recovery.RecoverAsync(row).ConfigureAwait(false);
            row = ctx.GetRow(sessionId);

            // Still running: another sidecar has it (it may have just claimed it): say which.
            SessionRegistry.EnsureNotForeign(row);
        }

        if (!SessionContinuation.Takes(row.Status))
        {
            throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is {row.Status}; only suspended or ended sessions resume (start a new one with session/start)");
        }

        var provider = ProviderResolver.Resolve(ctx.Providers, row.Provider, sessionId);
        SessionContinuation.EnsureResumable(row, provider.Profile);
        var readStatus = row.Status;
        if (!Directory.Exists(row.Workspace))
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"workspace '{row.Workspace}' of session {sessionId} does not exist any more");
        }

        await StartGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            row = ctx.GetRow(sessionId);
            if (ctx.Registry.Contains(sessionId) || row.Status != readStatus)
            {
                SessionRegistry.EnsureNotForeign(row);
                throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is {(ctx.Registry.Contains(sessionId) ? "already active" : row.Status)}; only suspended or ended sessions resume");
            }

            // An ended session continues as itself (SessionContinuation): "continued", not "resumed".
            var reason = SessionStatuses.IsEnded(readStatus) ? SessionContinuation.ContinuedReason : "resumed";

            EnsureRoomForASession();
            var workers = ctx.Store.ListWorkers(sessionId);
            var live = new LiveSession(await ClaimAsync(row).ConfigureAwait(false));
            ctx.Hub.Stream(sessionId, live.Row.LastSeq);
            ctx.Registry.Add(live);

            var previousAgent = workers.LastOrDefault(w => w.Kind == WorkerKinds.Agent) ?? new WorkerRow
            {
                Id = SessionIds.New(), SessionId = sessionId, Kind = WorkerKinds.Agent, Name = provider.Profile.Id, Command = provider.Executable, Cwd = Workspace.AgentCwd(row), Status = WorkerStatuses.Exited,
            };
            LiveWorker? agent;
            try
            {
                agent = await LaunchAsync(live, provider, row.AgentSessionId, previousAgent, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not SidecarException and not OperationCanceledException)
            {
                // Never leave a half-resumed session live: it goes back to suspended with the reason.
                await stopper.StopAsync(live, SessionStatuses.Suspended, $"resume failed: {ex.Message}", null).ConfigureAwait(false);
                throw;
            }

            // Active again: a new tracking period (START), then the shells that ran at suspend time.
            if (agent is null || !await ActivateAsync(live, reason, writeStart: true).ConfigureAwait(false))
            {
                return ctx.ViewStored(ctx.GetRow(sessionId));
            }

            foreach (var w in workers.Where(w => w.Kind == WorkerKinds.Terminal && w.Resume))
            {
                await RestartTerminalAsync(live, w).ConfigureAwait(false);
            }

            ctx.NotifyChanged(live);
            return ctx.View(live);
        }
        finally
        {
            StartGate.Release();
        }
    }

    private void EnsureRoomForASession()
    {
        if (ctx.Registry.Count >= ctx.Limits.Sessions)
        {
            throw SidecarLimits.Reached("sessions", ctx.Limits.Sessions, $"{ctx.Registry.Count} sessions are live in this sidecar; end or suspend some first");
        }
    }

    /// <summary>
    /// Makes this sidecar the owner of a suspended (or ended) session: a compare-and-set on the row as it was
    /// read (the same status, the same owner), in one transaction, so of two sidecars resuming it at once
    /// exactly one wins; the other gets 1004 naming the owner (and starts nothing).
    /// </summary>
    private async Task<SessionRow> ClaimAsync(SessionRow read)
    {
        var now = ctx.Now();
        var (claimed, current) = await ctx.Writer.WriteAsync(w =>
        {
            var current = w.GetSession(read.Id);
            if (current is null || current.Status != read.Status || !SessionContinuation.Takes(current.Status) || current.OwnerPid != read.OwnerPid || current.OwnerStart != read.OwnerStart)
            {
                return (false, current);
            }

            // "created" until the agent runs: a running status with this sidecar as the owner, so
            // a second claim sees it taken (and a crash before the agent runs is recovered).
            var mine = SessionContinuation.Reopen(current) with
            {
                Status = SessionStatuses.Created,
                StatusReason = "resuming",
                OwnerPid = ProcessInfo.CurrentPid,
                OwnerStart = ProcessInfo.CurrentStartTime,
                OwnerSocket = ctx.OwnerSocket,
                UpdatedAt = now,
                LastActivityAt = now,
            };
            w.UpdateSession(mine);
            return (true, mine);
        }).ConfigureAwait(false);
        if (claimed)
        {
            return current!;
        }

        if (current is not null)
        {
            SessionRegistry.EnsureNotForeign(current);
        }

        throw new SidecarException(SidecarError.InvalidState, $"session {read.Id} was {(current is null ? "deleted" : $"changed by another sidecar (now {current.Status})")} while it was being resumed", current?.OwnerPid is { } pid ? new Dictionary<string, object?>
        {
            ["owner"] = new Dictionary<string, object?> { ["pid"] = pid, ["startTime"] = current.OwnerStart, ["socket"] = current.OwnerSocket },
        } : null);
    }

    /// <summary>
    /// The session becomes active, unless it was stopped meanwhile (its agent exited at once): under
    /// the session's gate, so a stop that already ended it is never overwritten.
    /// </summary>
    internal async Task<bool> ActivateAsync(LiveSession live, string? reason, bool writeStart)
    {
        await live.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (live.Stopping || !ctx.Registry.Contains(live.Id))
            {
                return false;
            }

            var now = ctx.Now();
            await live.UpdateAsync(ctx.Writer, r => r with { Status = SessionStatuses.Active, StatusReason = reason, UpdatedAt = now }, (w, before, after) =>
            {
                w.Append(Events.Events.Status(after.Id, SessionStatuses.Active, reason, before.Status));
                if (writeStart)
                {
                    MetricsRecords.Start(w, after);
                }
            }).ConfigureAwait(false);
            live.Tracking = true;
        }
        finally
        {
            live.Gate.Release();
        }

        ctx.NotifyChanged(live);
        return true;
    }

    /// <summary>
    /// Spawns the session's agent (fresh, or resuming <paramref name="resumeAgentSessionId"/>), wires
    /// chat to it and waits until it is ready. Returns the agent, or null when it did not start: the
    /// session is then failed (a new session) or suspended again (a resume), with the reason recorded.
    /// A cancelled request stops the session the same way and throws.
    /// </summary>
    private async Task<LiveWorker?> LaunchAsync(LiveSession live, ResolvedProvider provider, string? resumeAgentSessionId, WorkerRow? previousAgent, CancellationToken cancellationToken)
    {
        var profile = provider.Profile;
        var row = live.Row;
        var resuming = previousAgent is not null;
        var args = profile.Args.Select(ctx.Providers.Expand).ToList();
        if (resumeAgentSessionId is { } resumeId && profile.ResumeArgs.Count > 0)
        {
            args.AddRange(profile.ResumeArgs.Select(a => a.Replace("{agentSessionId}", resumeId, StringComparison.Ordinal)));
        }

        if (row.Model is { } model && profile.ModelArgs.Count > 0)
        {
            args.AddRange(profile.ModelArgs.Select(a => a.Replace("{model}", model, StringComparison.Ordinal)));
        }

        var env = profile.Env;
        if (SessionMcpServers.ForLaunch(ctx.Options.DataDir, ctx.Store, row, profile) is { } mcp)
        {
            args.AddRange(mcp.Args); // last: Claude Code's --mcp-config takes every argument after it
            env = mcp.Env;
        }

        live.Profile = profile;
        LiveWorker agent;
        try
        {
            agent = await spawner.SpawnAsync(live, new WorkerSpec(WorkerKinds.Agent, previousAgent?.Name ?? profile.Id, provider.Executable, args, Workspace.AgentCwd(row), row.Cols, row.Rows, env, previousAgent?.Id)).ConfigureAwait(false);
        }
        catch (PtyStartException ex)
        {
            await GiveUpAsync(live, resuming, $"cannot start '{provider.Command}': {ex.Message}", null).ConfigureAwait(false);
            throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{profile.Id}' could not start '{provider.Command}': {ex.Message}", new Dictionary<string, object?> { ["command"] = provider.Command });
        }

        if (!profile.IsAgent)
        {
            return agent;
        }

        var controller = chat.Wire(live, agent, profile, resumeAgentSessionId);
        var timeout = TimeSpan.FromSeconds(profile.ReadyTimeoutSeconds);
        bool ready;
        try
        {
            ready = await controller.WaitReadyAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client gave up on session/start (or resume): nothing may be left running for it.
            await GiveUpAsync(live, resuming, "cancelled by the client before the agent was ready", agent).ConfigureAwait(false);
            throw;
        }

        if (ready)
        {
            return agent;
        }

        if (ctx.Registry.Contains(live.Id))
        {
            // Not ready in time (or it exited first): the session stops with what the agent showed.
            await GiveUpAsync(live, resuming, $"the {profile.DisplayName} agent was not ready within {timeout.TotalSeconds:0} s", agent).ConfigureAwait(false);
        }

        return null;
    }

    private async Task GiveUpAsync(LiveSession live, bool resuming, string message, LiveWorker? agent)
    {
        await ctx.Writer.AppendAsync(Events.Events.Error(live.Id, agent?.Id, message, resuming ? "resume" : "start", agent is null ? null : WorkerSpawner.ScreenTail(agent))).ConfigureAwait(false);
        if (resuming)
        {
            await stopper.StopAsync(live, SessionStatuses.Suspended, $"resume failed: {message}", null).ConfigureAwait(false);
        }
        else
        {
            await stopper.StopAsync(live, SessionStatuses.Failed, message, MetricsRecords.Failed).ConfigureAwait(false);
        }
    }

    private async Task RestartTerminalAsync(LiveSession live, WorkerRow w)
    {
        var cwd = Directory.Exists(w.Cwd) ? w.Cwd : Workspace.AgentCwd(live.Row);
        try
        {
            await spawner.SpawnAsync(live, new WorkerSpec(WorkerKinds.Terminal, w.Name, w.Command, w.Args, cwd, w.Cols, w.Rows, null, w.Id)).ConfigureAwait(false);
        }
        catch (PtyStartException ex)
        {
            // One shell that cannot start again does not stop the session: it is reported and left exited.
            await ctx.Writer.AppendAsync(Events.Events.Error(live.Id, w.Id, $"cannot restart '{w.Command}' in {cwd}: {ex.Message}", "resume")).ConfigureAwait(false);
            var row = w with { Resume = false };
            await ctx.Writer.WriteAsync(x =>
            {
                x.UpsertWorker(row);
                return 0;
            }).ConfigureAwait(false);
        }
    }
}
