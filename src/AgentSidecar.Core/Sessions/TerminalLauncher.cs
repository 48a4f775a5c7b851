using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// Where a <c>worker/start</c> terminal starts: its command, folder, name and environment checked,
/// then spawned beside the session's agent. Names are unique among the session's running workers,
/// because clients name their terminal tabs by them and scripts find workers by them.
/// </summary>
internal sealed class TerminalLauncher(SessionContext ctx, WorkerSpawner spawner)
{
    public async Task<WorkerRow> StartAsync(StartWorkerRequest request)
    {
        var live = ctx.Registry.GetLive(request.SessionId, ctx.Store);
        var command = request.Command ?? ctx.Providers.Expand("${SHELL:-/bin/bash}");
        var resolved = ctx.Providers.Resolve(command)
            ?? throw new SidecarException(SidecarError.InvalidArgument, $"command '{command}' was not found in PATH", new Dictionary<string, object?> { ["field"] = "command" });
        var cwd = request.Cwd ?? Workspace.AgentCwd(live.Row);
        if (!Path.IsPathFullyQualified(cwd) || !Directory.Exists(cwd))
        {
            throw new SidecarException(SidecarError.InvalidArgument, $"cwd '{cwd}' is not an absolute path to an existing directory", new Dictionary<string, object?> { ["field"] = "cwd" });
        }

        if (live.Workers.Count(w => w.Process is { HasExited: false }) >= ctx.Limits.WorkersPerSession)
        {
            throw SidecarLimits.Reached("workersPerSession", ctx.Limits.WorkersPerSession, $"session {live.Id} runs {ctx.Limits.WorkersPerSession} workers already; stop one first");
        }

        await live.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (live.Stopping)
            {
                throw new SidecarException(SidecarError.InvalidState, $"session {live.Id} is stopping");
            }

            // Under the gate: two starts with one name cannot both pass the check.
            var running = live.Workers.Where(w => w.Process is { HasExited: false }).ToList();
            var name = request.Name ?? DefaultName(command, live, running);
            if (running.Find(w => w.Row.Name == name) is { } clash)
            {
                throw new SidecarException(SidecarError.InvalidWorkspace, $"worker name '{name}' is taken in session {live.Id} by running worker {clash.Id}; choose another name (or stop that worker)", new Dictionary<string, object?>
                {
                    ["field"] = "name",
                    ["name"] = name,
                    ["workerId"] = clash.Id,
                });
            }

            try
            {
                var spec = new WorkerSpec(WorkerKinds.Terminal, name, resolved, request.Args ?? [], cwd, request.Cols ?? live.Row.Cols, request.Rows ?? live.Row.Rows) { ClientEnv = request.Env };
                return (await spawner.SpawnAsync(live, spec).ConfigureAwait(false)).Row;
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

    /// <summary>"bash 1", "bash 2"…: the first number no running worker's name has.</summary>
    private static string DefaultName(string command, LiveSession live, List<LiveWorker> running)
    {
        var n = live.Workers.Count(w => w.Row.Kind == WorkerKinds.Terminal) + 1;
        while (running.Exists(w => w.Row.Name == $"{Path.GetFileName(command)} {n}"))
        {
            n++;
        }

        return $"{Path.GetFileName(command)} {n}";
    }
}
