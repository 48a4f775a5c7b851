using AgentSidecar.Core.Events;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

/// <summary>What a worker is started with.</summary>
internal sealed record WorkerSpec(string Kind, string Name, string Command, IReadOnlyList<string> Args, string Cwd, int Cols, int Rows, IReadOnlyDictionary<string, string>? ExtraEnv = null, string? Id = null)
{
    /// <summary><c>worker/start</c>'s <c>env</c>: added as given, after the profile's (expanded) <see cref="ExtraEnv"/>.</summary>
    public IReadOnlyDictionary<string, string>? ClientEnv { get; init; }
}

/// <summary>
/// The session context every worker gets in its environment (docs/protocol.md, "Worker environment").
/// A process's environment is fixed at its start: after a /clear or a <c>session/setTaskId</c>, the
/// workers already running keep the values they started with; workers started later get the new ones.
/// </summary>
internal static class WorkerEnvironment
{
    public const string SessionId = "AGENT_SIDECAR_SESSION_ID";
    public const string WorkerId = "AGENT_SIDECAR_WORKER_ID";
    public const string TaskId = "AGENT_SIDECAR_TASK_ID";
}

/// <summary>
/// Starts a session's workers in their PTYs (environment, screen, the path of their output into the
/// log) and records how they end: an agent that exits by itself ends its session.
/// </summary>
internal sealed partial class WorkerSpawner(SessionContext ctx, SessionEvents events, SessionStopper stopper)
{
    /// <summary>Starts a worker; a resumed one keeps its id (<see cref="WorkerSpec.Id"/>), so clients' terminals for it carry on.</summary>
    public async Task<LiveWorker> SpawnAsync(LiveSession live, WorkerSpec spec)
    {
        var row = new WorkerRow
        {
            Id = spec.Id ?? SessionIds.New(),
            SessionId = live.Id,
            Kind = spec.Kind,
            Name = spec.Name,
            Command = spec.Command,
            Args = spec.Args,
            Cwd = spec.Cwd,
            Status = WorkerStatuses.Running,
            Cols = spec.Cols,
            Rows = spec.Rows,
            CreatedAt = ctx.Now(),
        };
        var worker = new LiveWorker(row, ctx.Writer, OnExit, ctx.Clock, (w, ex) => LogOutputFailed(ctx.Logger, ex, w.Id)) { Session = live };
        var env = new Dictionary<string, string>(ctx.Environment, StringComparer.Ordinal)
        {
            ["TERM"] = "xterm-256color",
            ["COLORTERM"] = "truecolor",
        };
        if (spec.ExtraEnv is not null)
        {
            foreach (var (k, v) in spec.ExtraEnv)
            {
                env[k] = ctx.Providers.Expand(v);
            }
        }

        foreach (var (k, v) in spec.ClientEnv ?? new Dictionary<string, string>())
        {
            env[k] = v;
        }

        // The session context last, so no profile or client variable can make it wrong. live.Id is
        // the session's id now (a /clear renames the live session), so a worker started after a
        // clear names the new session; the task id travels with the session across clears.
        env[WorkerEnvironment.SessionId] = live.Id;
        env[WorkerEnvironment.WorkerId] = row.Id;
        if (live.Row.TaskId is { Length: > 0 } taskId)
        {
            env[WorkerEnvironment.TaskId] = taskId;
        }
        else
        {
            env.Remove(WorkerEnvironment.TaskId); // never the sidecar's own, which would name another task
        }

        // What is recorded and shown never holds the values of the profile's secret variables.
        if (Providers.SecretRedactor.Values(live.Profile, env) is { Count: > 0 } secrets)
        {
            if (spec.Kind == WorkerKinds.Agent && Providers.SecretRedactor.IndexOnCommandLine(spec.Command, spec.Args, secrets) is { } index)
            {
                // Through another variable (e.g. "${MY_TOKEN}" whose value is a secretEnv value): refused like "${API_TOKEN}".
                throw new SidecarException(SidecarError.ProviderUnavailable, $"provider '{live.Profile!.Id}': the agent's {(index < 0 ? "command" : $"argument {index + 1}")} would put the value of a secretEnv variable on its command line, where every local user can read it (ps); give it to the agent through its environment", new Dictionary<string, object?> { ["provider"] = live.Profile.Id });
            }

            row = row with { Command = Providers.SecretRedactor.Redact(spec.Command, secrets), Args = spec.Args.Select(a => Providers.SecretRedactor.Redact(a, secrets)).ToList() };
            worker.Row = row;
        }

        // The screen reads this worker's events from the session's current head on.
        var screen = new WorkerScreen(row.Id, spec.Cols, spec.Rows);
        worker.Screen = screen;
        var screenFeed = FeedScreen(worker, screen, live.Id, ctx.Hub.TryGet(live.Id)?.CommittedSeq ?? live.Row.LastSeq, ScreenFeedRetries);
        PtyProcess process;
        try
        {
            process = PtyProcess.Start(new PtyStartInfo { Command = spec.Command, Args = spec.Args, WorkingDirectory = spec.Cwd, Environment = env, Cols = spec.Cols, Rows = spec.Rows }, worker);
        }
        catch
        {
            screenFeed.Stop(DetachReasons.Closed);
            throw;
        }

        worker.Process = process;
        worker.Row = row = row with { Pid = process.Pid, PidStart = process.StartTime };
        ctx.Registry.AddWorker(worker);
        live.Add(worker);
        var started = ctx.Writer.WriteAsync(w =>
        {
            w.UpsertWorker(row);
            w.Append(Events.Events.Worker(live.Id, "started", row));
            return 0;
        });

        // Output that arrived meanwhile is queued now: behind the "started" event, in order.
        worker.Open();
        await started.ConfigureAwait(false);
        ctx.NotifyChanged(live);
        return worker;
    }

    /// <summary>How many times a worker's screen feed that failed is started again (then it stays stopped, logged).</summary>
    private const int ScreenFeedRetries = 3;

    /// <summary>
    /// Feeds a worker's screen from its committed output. Problem: a feed that failed (a read of the
    /// log that threw) ended in silence, and the screen, which chat and approvals read, froze. Solution:
    /// the failure is logged and the feed goes on from where it was, a few times at most.
    /// </summary>
    private Attachment FeedScreen(LiveWorker worker, WorkerScreen screen, string sessionId, long afterSeq, int retries)
    {
        var (feed, _) = events.Attach(sessionId, afterSeq, [Channels.Pty], screen);
        screen.Attachment = feed;
        feed.Start();
        _ = feed.Ended.ContinueWith(
            t =>
            {
                if (t.Result != DetachReasons.Error || worker.Process is not { HasExited: false })
                {
                    return;
                }

                LogScreenFeedFailed(ctx.Logger, feed.Failure, worker.Id, retries);
                if (retries > 0)
                {
                    FeedScreen(worker, screen, worker.SessionId, feed.Cursor, retries - 1);
                }
            },
            TaskScheduler.Default);
        return feed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the screen of worker {WorkerId} stopped following its output ({Retries} restarts left)")]
    private static partial void LogScreenFeedFailed(ILogger logger, Exception? ex, string workerId, int retries);

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

    private void OnExit(LiveWorker worker, PtyExit exit) =>
        BackgroundWork.Run(ctx.Logger, $"recording the exit of worker {worker.Id}", () => RecordExitAsync(worker, exit));

    private async Task RecordExitAsync(LiveWorker worker, PtyExit exit)
    {
        try
        {
            var sessionId = worker.SessionId;
            worker.Row = worker.Row with { Status = WorkerStatuses.Exited, ExitCode = exit.ExitCode, Signal = exit.Signal, ExitedAt = ctx.Now() };
            var row = worker.Row;
            await ctx.Writer.WriteAsync(w =>
            {
                w.UpsertWorker(row);
                w.Append(Events.Events.Exit(sessionId, row.Id, exit.ExitCode, exit.Signal));
                return 0;
            }).ConfigureAwait(false);
            worker.ExitRecorded.TrySetResult();
            if (!ctx.Registry.TryGet(sessionId, out var live))
            {
                return;
            }

            if (row.Kind == WorkerKinds.Agent && !live.Stopping)
            {
                await AgentExitedAsync(live, worker, exit).ConfigureAwait(false);
                return;
            }

            ctx.NotifyChanged(live);
        }
        catch (Exception ex)
        {
            LogExitFailed(ctx.Logger, ex, worker.Id);
            worker.ExitRecorded.TrySetResult();
        }
    }

    /// <summary>The agent ended by itself: the session ends with it (and takes its shells along).</summary>
    private async Task AgentExitedAsync(LiveSession live, LiveWorker agent, PtyExit exit)
    {
        if (live.Chat is { } chat)
        {
            await chat.AgentExitedAsync(exit).ConfigureAwait(false);
        }

        var failed = exit.ExitCode is not 0 || live.Chat is { IsReady: false };
        var reason = failed ? $"the agent exited ({Describe(exit)})" : "exit";
        if (failed)
        {
            await ctx.Writer.AppendAsync(Events.Events.Error(live.Id, agent.Id, reason, "agent", ScreenTail(agent))).ConfigureAwait(false);
        }

        if (!live.Tracking)
        {
            // A resume whose agent went away before it was active: suspended again, no END without a START.
            await stopper.StopAsync(live, SessionStatuses.Suspended, $"resume failed: {reason}", null).ConfigureAwait(false);
            return;
        }

        await stopper.StopAsync(live, failed ? SessionStatuses.Failed : SessionStatuses.Completed, reason, failed ? MetricsRecords.Failed : MetricsRecords.Exit).ConfigureAwait(false);
    }

    private static string Describe(PtyExit exit) => exit.Signal is { } s ? $"signal {s}" : $"exit code {exit.ExitCode}";

    [LoggerMessage(Level = LogLevel.Error, Message = "passing the output or exit of worker {WorkerId} on failed; its terminal keeps running")]
    private static partial void LogOutputFailed(ILogger logger, Exception ex, string workerId);

    [LoggerMessage(Level = LogLevel.Error, Message = "recording the exit of worker {WorkerId} failed")]
    private static partial void LogExitFailed(ILogger logger, Exception ex, string workerId);
}

/// <summary>Ids of sessions and workers: time-ordered, so they sort by creation.</summary>
internal static class SessionIds
{
    public static string New() => Guid.CreateVersion7().ToString("N");
}
