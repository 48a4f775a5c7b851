using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>Workers that flood, ignore SIGHUP, or come and go by the thousand: nothing is left behind.</summary>
public sealed class WorkerChurnTests : IDisposable
{
    private const int Spawns = 1000;

    /// <summary>Descriptors that may come and go on their own (pooled SQLite readers, sockets of the runtime).</summary>
    private const int FdSlack = 16;

    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-churn-").FullName;

    /// <summary>The data directory: a folder of its own in the test's folder (HOME sits beside it).</summary>

    private string DataDir => Path.Combine(_dir, "data");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// SQLite's pooled connections (the database, its WAL and shared memory) grow with concurrent reads
    /// up to the pool's size and are kept on purpose: not counted. A leak per spawn shows in the rest.
    /// </summary>
    private static List<string> NonPooled(IEnumerable<string> targets) =>
        targets.Where(t => !t.EndsWith("sidecar.db", StringComparison.Ordinal) && !t.EndsWith("sidecar.db-wal", StringComparison.Ordinal) && !t.EndsWith("sidecar.db-shm", StringComparison.Ordinal)).ToList();

    [Fact(Timeout = 180000)]
    public async Task FloodingAndSighupIgnoringWorkers_AndAThousandSpawns_LeaveNoZombiesAndNoDescriptors()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;

        // Warm up every path once (pooled readers, threads), then count.
        await SpawnAndWaitAsync(c, sid, 20);
        var fdsBefore = NonPooled(Procs.FdTargets(sidecar.Pid));

        // A worker that floods, stopped while it floods; one that ignores SIGHUP, stopped (SIGKILL after the grace).
        var flood = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash", ["args"] = new JsonArray("--norc", "-c", "while :; do head -c 1000000 /dev/zero | tr '\\0' f; done") });
        var stubborn = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash", ["args"] = new JsonArray("--norc", "-c", "trap '' HUP; sleep 1000 & trap '' HUP; while :; do sleep 1; done") });
        var floodPid = flood.GetProperty("pid").GetInt32();
        var stubbornPid = stubborn.GetProperty("pid").GetInt32();
        // Stopped while it runs: the flood's pipeline is up, and the stubborn one has set its trap and started its background sleep.
        Assert.True(
            await Procs.WaitUntilAsync(() => Procs.Descendants(floodPid).Count > 0 && Procs.Descendants(stubbornPid).Select(Procs.CommandLine).Contains("sleep 1000"), TimeSpan.FromSeconds(10)),
            $"the workers never got going: flood children {string.Join(", ", Procs.Descendants(floodPid).Select(Procs.CommandLine))}; stubborn children {string.Join(", ", Procs.Descendants(stubbornPid).Select(Procs.CommandLine))}");
        var stubbornTree = Procs.Descendants(stubbornPid).Append(stubbornPid).ToList();
        var floodTree = Procs.Descendants(floodPid).Append(floodPid).ToList();
        var stoppedFlood = await c.RequestAsync("worker/stop", new JsonObject { ["workerId"] = flood.GetProperty("id").GetString() });
        var stoppedStubborn = await c.RequestAsync("worker/stop", new JsonObject { ["workerId"] = stubborn.GetProperty("id").GetString() });
        Assert.Equal("exited", stoppedFlood.GetProperty("status").GetString());
        Assert.Equal(9, stoppedStubborn.GetProperty("signal").GetInt32()); // SIGHUP ignored, so SIGKILL.
        Assert.True(await Procs.WaitUntilAsync(() => !stubbornTree.Concat(floodTree).Any(Procs.IsAlive), TimeSpan.FromSeconds(10)),
            $"still alive: {string.Join(", ", stubbornTree.Concat(floodTree).Where(Procs.IsAlive))}");

        // A thousand short workers, one after another.
        await SpawnAndWaitAsync(c, sid, Spawns);

        Assert.True(await Procs.WaitUntilAsync(() => Procs.Children(sidecar.Pid).All(ch => ch.State != "Z"), TimeSpan.FromSeconds(10)),
            $"zombies: {string.Join(", ", Procs.Children(sidecar.Pid).Where(ch => ch.State == "Z").Select(ch => ch.Pid))}");
        var fdsAfter = NonPooled(Procs.FdTargets(sidecar.Pid));
        var grown = fdsAfter.GroupBy(t => t.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : t.StartsWith("pipe:", StringComparison.Ordinal) ? "pipe" : t)
            .Select(g => $"{g.Key} x{g.Count()}");
        Assert.True(fdsAfter.Count <= fdsBefore.Count + FdSlack, $"descriptors {fdsBefore.Count} -> {fdsAfter.Count}: {string.Join(", ", grown)}");

        // Only the session's own shell is left as a child.
        var agentPid = s.GetProperty("workers")[0].GetProperty("pid").GetInt32();
        Assert.Equal([agentPid], Procs.Children(sidecar.Pid).Select(ch => ch.Pid));
        TestContext.Current.SendDiagnosticMessage($"churn: fds {fdsBefore.Count} -> {fdsAfter.Count} after {Spawns} spawns");
    }

    private static async Task SpawnAndWaitAsync(RpcClient c, string sid, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var w = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "true" });
            ids.Add(w.GetProperty("id").GetString()!);
        }

        var pending = new HashSet<string>(ids, StringComparer.Ordinal);
        // Every one of them exits, with its exit recorded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            var list = (await c.RequestAsync("worker/list", new JsonObject { ["sessionId"] = sid })).GetProperty("workers").EnumerateArray();
            foreach (var w in list)
            {
                if (w.GetProperty("status").GetString() == "exited")
                {
                    pending.Remove(w.GetProperty("id").GetString()!);
                }
            }

            if (pending.Count > 0)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        Assert.Empty(pending);
    }
}
