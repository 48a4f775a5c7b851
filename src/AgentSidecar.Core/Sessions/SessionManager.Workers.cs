using System.Text;
using AgentSidecar.Core.Events;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

public sealed partial class SessionManager
{
    public async Task<WorkerRow> StartWorkerAsync(StartWorkerRequest request)
    {
        var live = GetLive(request.SessionId);
        var command = request.Command ?? _providers.Expand("${SHELL:-/bin/bash}");
        var resolved = _providers.Resolve(command)
            ?? throw new SidecarException(SidecarError.InvalidArgument, $"command '{command}' was not found in PATH", new Dictionary<string, object?> { ["field"] = "command" });
        var cwd = request.Cwd ?? AgentCwd(live.Row);
        if (!Path.IsPathFullyQualified(cwd) || !Directory.Exists(cwd))
        {
            throw new SidecarException(SidecarError.InvalidArgument, $"cwd '{cwd}' is not an absolute path to an existing directory", new Dictionary<string, object?> { ["field"] = "cwd" });
        }

        await live.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (live.Stopping)
            {
                throw new SidecarException(SidecarError.InvalidState, $"session {live.Id} is stopping");
            }

            var name = request.Name ?? $"{Path.GetFileName(command)} {live.Workers.Count(w => w.Row.Kind == "terminal") + 1}";
            try
            {
                return (await SpawnWorkerAsync(live, "terminal", name, resolved, request.Args ?? [], cwd, request.Cols ?? live.Row.Cols, request.Rows ?? live.Row.Rows, null).ConfigureAwait(false)).Row;
            }
            catch (PtyStartException ex)
            {
                throw new SidecarException(SidecarError.InvalidArgument, $"cannot start '{command}': {ex.Message}", new Dictionary<string, object?> { ["field"] = "command" });
            }
        }
        finally
        {
            live.Gate.Release();
        }
    }

    public IReadOnlyList<WorkerRow> ListWorkers(string sessionId) =>
        _live.TryGetValue(sessionId, out var live) ? live.Workers.Select(w => w.Row).ToList() : _store.ListWorkers(GetRow(sessionId).Id);

    public WorkerRow GetWorker(string workerId) =>
        _workers.TryGetValue(workerId, out var w) ? w.Row
        : _store.GetWorker(workerId) ?? throw new SidecarException(SidecarError.WorkerNotFound, $"worker '{workerId}' not found");

    public async Task<WorkerRow> StopWorkerAsync(string workerId)
    {
        var worker = GetLiveWorker(workerId);
        if (worker.Process is { } p)
        {
            await p.StopAsync(_options.StopGrace).ConfigureAwait(false);
        }

        await worker.ExitRecorded.Task.ConfigureAwait(false);
        return worker.Row;
    }

    public void Input(string workerId, string data)
    {
        var bytes = Encoding.UTF8.GetBytes(data);
        if (bytes.Length > SidecarOptions.MaxInputBytes)
        {
            throw new SidecarException(SidecarError.PayloadTooLarge, $"input of {bytes.Length} bytes exceeds the limit of {SidecarOptions.MaxInputBytes} bytes; send it in parts");
        }

        var worker = GetLiveWorker(workerId);
        if (!worker.Process!.Write(bytes, PtyProcess.MaxPendingInputBytes))
        {
            throw new SidecarException(
                SidecarError.PayloadTooLarge,
                $"worker {workerId} is not reading its input: {worker.Process.PendingInputBytes} bytes are still waiting (the limit is {PtyProcess.MaxPendingInputBytes}); send more when it has read them",
                new Dictionary<string, object?> { ["pendingBytes"] = worker.Process.PendingInputBytes });
        }

        worker.LastInputAt = Now();
        TouchActivity(worker.SessionId);
        WatchForClear(worker, data);
    }

    public async Task ResizeAsync(string workerId, int cols, int rows)
    {
        var worker = GetLiveWorker(workerId);
        worker.Process!.Resize(cols, rows);
        worker.Row = worker.Row with { Cols = cols, Rows = rows };
        var row = worker.Row;
        await _writer.WriteAsync(ctx =>
        {
            ctx.UpsertWorker(row);
            ctx.Append(Events.Events.Resize(worker.SessionId, workerId, cols, rows));
            return 0;
        }).ConfigureAwait(false);
    }

    private LiveSession GetLive(string sessionId)
    {
        if (_live.TryGetValue(sessionId, out var live))
        {
            return live;
        }

        var row = GetRow(sessionId);
        EnsureNotForeign(row);
        throw new SidecarException(SidecarError.InvalidState, $"session {sessionId} is {row.Status}: it has no running processes");
    }

    private LiveWorker GetLiveWorker(string workerId)
    {
        if (_workers.TryGetValue(workerId, out var w) && w.Process is not null && !w.Process.HasExited)
        {
            return w;
        }

        var row = w?.Row ?? _store.GetWorker(workerId) ?? throw new SidecarException(SidecarError.WorkerNotFound, $"worker '{workerId}' not found");
        var session = _store.GetSession(row.SessionId);
        if (session is not null)
        {
            EnsureNotForeign(session);
        }

        throw new SidecarException(SidecarError.InvalidState, $"worker {workerId} has exited");
    }

    private void TouchActivity(string sessionId)
    {
        if (_live.TryGetValue(sessionId, out var live))
        {
            live.Row = live.Row with { LastActivityAt = Now() };
        }
    }

    private async Task<LiveWorker> SpawnWorkerAsync(LiveSession live, string kind, string name, string command, IReadOnlyList<string> args, string cwd, int cols, int rows, IReadOnlyDictionary<string, string>? extraEnv, string? id = null)
    {
        // A resumed worker keeps its id, so clients' terminals for it carry on.
        var row = new WorkerRow
        {
            Id = id ?? NewId(),
            SessionId = live.Id,
            Kind = kind,
            Name = name,
            Command = command,
            Args = args,
            Cwd = cwd,
            Status = "running",
            Cols = cols,
            Rows = rows,
            CreatedAt = Now(),
        };
        var worker = new LiveWorker(row, _writer, OnWorkerExit) { Session = live };
        var env = new Dictionary<string, string>(_baseEnvironment, StringComparer.Ordinal)
        {
            ["TERM"] = "xterm-256color",
            ["COLORTERM"] = "truecolor",
            ["AGENT_SIDECAR_SESSION_ID"] = live.Id,
            ["AGENT_SIDECAR_WORKER_ID"] = row.Id,
        };
        if (extraEnv is not null)
        {
            foreach (var (k, v) in extraEnv)
            {
                env[k] = _providers.Expand(v);
            }
        }

        // What is recorded and shown never holds the values of the profile's secret variables.
        if (Providers.SecretRedactor.Values(live.Profile, env) is { Count: > 0 } secrets)
        {
            row = row with { Command = Providers.SecretRedactor.Redact(command, secrets), Args = args.Select(a => Providers.SecretRedactor.Redact(a, secrets)).ToList() };
            worker.Row = row;
        }

        // The screen reads this worker's events from the session's current head on.
        var screen = new WorkerScreen(row.Id, cols, rows);
        worker.Screen = screen;
        var (screenFeed, _) = Attach(live.Id, _hub.TryGet(live.Id)?.CommittedSeq ?? live.Row.LastSeq, ["pty"], screen);
        screen.Attachment = screenFeed;
        screenFeed.Start();
        PtyProcess process;
        try
        {
            process = PtyProcess.Start(new PtyStartInfo { Command = command, Args = args, WorkingDirectory = cwd, Environment = env, Cols = cols, Rows = rows }, worker);
        }
        catch
        {
            screenFeed.Stop(DetachReasons.Closed);
            throw;
        }

        worker.Process = process;
        worker.Row = row = row with { Pid = process.Pid, PidStart = process.StartTime };
        _workers[row.Id] = worker;
        live.Add(worker);
        var started = _writer.WriteAsync(ctx =>
        {
            ctx.UpsertWorker(row);
            ctx.Append(Events.Events.Worker(live.Id, "started", row));
            return 0;
        });

        // Output that arrived meanwhile is queued now: behind the "started" event, in order.
        worker.Open();
        await started.ConfigureAwait(false);
        SessionChanged?.Invoke(View(live));
        return worker;
    }

    private void OnWorkerExit(LiveWorker worker, PtyExit exit) => _ = Task.Run(() => RecordExitAsync(worker, exit));

    private async Task RecordExitAsync(LiveWorker worker, PtyExit exit)
    {
        try
        {
            var sessionId = worker.SessionId;
            worker.Row = worker.Row with { Status = "exited", ExitCode = exit.ExitCode, Signal = exit.Signal, ExitedAt = Now() };
            var row = worker.Row;
            await _writer.WriteAsync(ctx =>
            {
                ctx.UpsertWorker(row);
                ctx.Append(Events.Events.Exit(sessionId, row.Id, exit.ExitCode, exit.Signal));
                return 0;
            }).ConfigureAwait(false);
            worker.ExitRecorded.TrySetResult();
            if (!_live.TryGetValue(sessionId, out var live))
            {
                return;
            }

            if (row.Kind == "agent" && !live.Stopping)
            {
                // The agent ended by itself: the session ends with it (and takes its shells along).
                if (live.Chat is { } chat)
                {
                    await chat.AgentExitedAsync(exit).ConfigureAwait(false);
                }

                var failed = exit.ExitCode is not 0 || (live.Chat is { IsReady: false });
                var reason = failed ? $"the agent exited ({Describe(exit)})" : "exit";
                if (failed)
                {
                    await _writer.AppendAsync(Events.Events.Error(sessionId, row.Id, reason, "agent", ScreenTail(worker))).ConfigureAwait(false);
                }

                await StopSessionAsync(live, failed ? "failed" : "completed", reason, failed ? MetricsRecords.Failed : MetricsRecords.Exit).ConfigureAwait(false);
                return;
            }

            SessionChanged?.Invoke(View(live));
        }
        catch (Exception ex)
        {
            LogExitFailed(_logger, ex, worker.Id);
            worker.ExitRecorded.TrySetResult();
        }
    }

    /// <summary>The last non-empty lines of a worker's screen: what the user would have seen when it failed.</summary>
    internal static string? ScreenTail(LiveWorker worker, int lines = 15)
    {
        if (worker.Screen is not { } screen)
        {
            return null;
        }

        var snap = screen.Snapshot(withAnsi: false);
        var all = snap.Scrollback.Concat(snap.Lines).Where(l => l.Trim().Length > 0).ToList();
        return string.Join('\n', all.Skip(Math.Max(0, all.Count - lines)));
    }

    private static string Describe(PtyExit exit) => exit.Signal is { } s ? $"signal {s}" : $"exit code {exit.ExitCode}";

    /// <summary>
    /// The one stop path (exit, end, failure, suspend, reset, cleanup): stop every worker, wait for
    /// their exits in the log, then the final status, its event and the END metric in one commit
    /// (no END when <paramref name="endReason"/> is null: a resume that failed never STARTed).
    /// </summary>
    private async Task StopSessionAsync(LiveSession live, string status, string reason, string? endReason, bool graceful = false)
    {
        await live.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_live.ContainsKey(live.Id))
            {
                return;
            }

            live.Stopping = true;
            var workers = live.Workers;
            var running = workers.Where(w => w.Process is { HasExited: false }).Select(w => w.Id).ToHashSet(StringComparer.Ordinal);
            if (graceful)
            {
                await QuitAgentAsync(live).ConfigureAwait(false);
            }

            await Task.WhenAll(workers.Select(w => w.Process?.StopAsync(_options.StopGrace) ?? Task.FromResult(default(PtyExit)))).ConfigureAwait(false);
            await Task.WhenAll(workers.Select(w => w.ExitRecorded.Task)).ConfigureAwait(false);
            if (live.Chat is { } chat)
            {
                await chat.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var w in workers)
            {
                w.Screen?.Attachment?.Stop(DetachReasons.Closed);
            }

            var ended = status is "completed" or "failed";
            var previous = live.Row.Status;
            live.Row = live.Row with
            {
                Status = status,
                StatusReason = reason,
                EndedAt = ended ? Now() : null,
                UpdatedAt = Now(),
            };
            var row = live.Row;
            // Suspended: the workers that were running start again on resume.
            var resumable = status == "suspended" ? workers.Where(w => running.Contains(w.Id)).ToList() : [];
            foreach (var w in resumable)
            {
                w.Row = w.Row with { Resume = true };
            }

            await _writer.WriteAsync(ctx =>
            {
                foreach (var w in resumable)
                {
                    ctx.UpsertWorker(w.Row);
                }

                ctx.UpdateSession(row);
                ctx.Append(Events.Events.Status(row.Id, status, reason, previous));
                if (endReason is not null)
                {
                    MetricsRecords.End(ctx, row with { EndedAt = row.EndedAt ?? ctx.Now }, endReason);
                }

                return 0;
            }).ConfigureAwait(false);
            MetricsTrigger?.Invoke();
            _live.TryRemove(live.Id, out _);
            foreach (var w in workers)
            {
                _workers.TryRemove(w.Id, out _);
            }

            _hub.TryGet(live.Id)?.Wake();
            SessionChanged?.Invoke(ViewStored(GetRow(live.Id)));
            if (ended && row.WorktreeState == "active")
            {
                await FinishWorktreeAsync(live.Id).ConfigureAwait(false);
            }
        }
        finally
        {
            live.Gate.Release();
        }
    }

    /// <summary>
    /// Asks the agent to quit the way a user would (its quit command; a running turn is interrupted
    /// first), so it saves its conversation; <see cref="StopSessionAsync"/> then sends SIGHUP and SIGKILL
    /// to whatever is still running.
    /// </summary>
    private async Task QuitAgentAsync(LiveSession live)
    {
        if (live.Profile is not { Quit: { } quit } profile || live.Agent is not { Process: { HasExited: false } process })
        {
            return;
        }

        try
        {
            if (live.Chat is { Busy: true } chat)
            {
                await chat.CancelAsync().ConfigureAwait(false);
                var deadline = DateTime.UtcNow + QuitCancelWait;
                while (chat.Busy && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(20).ConfigureAwait(false);
                }
            }

            process.Write(Encoding.UTF8.GetBytes(quit));
            for (var i = 0; i < profile.QuitEnters; i++)
            {
                await Task.Delay(i == 0 ? TimeSpan.FromMilliseconds(profile.Input.SubmitDelayMs) : ClearEnterGap).ConfigureAwait(false);
                process.Write(Encoding.UTF8.GetBytes(profile.Input.Submit));
            }

            await Task.WhenAny(process.Exited, Task.Delay(_options.QuitTimeout)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The agent went away meanwhile: the signals below find nothing to do.
        }
    }

    /// <summary>How long a running turn may take to stop before the agent is asked to quit anyway.</summary>
    private static readonly TimeSpan QuitCancelWait = TimeSpan.FromSeconds(2);

    private async Task SetStatusAsync(LiveSession live, string status, string? reason)
    {
        var previous = live.Row.Status;
        live.Row = live.Row with { Status = status, StatusReason = reason, UpdatedAt = Now() };
        var row = live.Row;
        await _writer.WriteAsync(ctx =>
        {
            ctx.UpdateSession(row);
            ctx.Append(Events.Events.Status(row.Id, status, reason, previous));
            return 0;
        }).ConfigureAwait(false);
        SessionChanged?.Invoke(View(live));
    }

    private async Task FailAsync(LiveSession live, string message)
    {
        await _writer.AppendAsync(Events.Events.Error(live.Id, null, message, "start")).ConfigureAwait(false);
        await StopSessionAsync(live, "failed", message, MetricsRecords.Failed).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "recording the exit of worker {WorkerId} failed")]
    private static partial void LogExitFailed(ILogger logger, Exception ex, string workerId);
}
