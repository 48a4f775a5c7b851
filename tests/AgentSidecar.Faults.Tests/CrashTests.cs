using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>The sidecar killed with SIGKILL in the middle of a flood, then started again.</summary>
public sealed class CrashTests : IDisposable
{
    private const long BytesBeforeKill = 4_000_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-crash-").FullName;
    /// <summary>The data directory: a folder of its own in the test's folder (HOME sits beside it).</summary>
    private string DataDir => Path.Combine(_dir, "data");
    private List<int> _oldProcesses = [];

    public void Dispose()
    {
        foreach (var pid in _oldProcesses.Where(Procs.IsAlive))
        {
            // Only if the test failed: leave nothing behind on the machine.
            System.Diagnostics.Process.GetProcessById(pid).Kill();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact(Timeout = 120000)]
    public async Task SigkillRightAfterAWorktreeSessionEnded_TheNextSidecarFinishesTheWorktree()
    {
        var repo = Directory.CreateDirectory(Path.Combine(_dir, "repo")).FullName;
        Git(repo, "init", "-q", "-b", "main");
        await File.WriteAllTextAsync(Path.Combine(repo, "README"), "hello\n", TestContext.Current.CancellationToken);
        Git(repo, "add", "README");
        Git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "first");

        // Killed the moment the end is committed (the session/changed notification), while the
        // worktree's removal runs or has not begun: the interrupted state the next sidecar finds.
        string sid, path;
        var sidecar = await SidecarProcess.StartAsync(DataDir);
        await using (sidecar)
        {
            var c = sidecar.Client;
            var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = repo, ["provider"] = "shell", ["kind"] = "worktree" });
            sid = s.GetProperty("id").GetString()!;
            path = s.GetProperty("worktree").GetProperty("path").GetString()!;
            var killed = new TaskCompletionSource();
            c.OnNotification = n =>
            {
                if (n.GetProperty("method").GetString() == "session/changed"
                    && n.GetProperty("params").GetProperty("session") is var changed
                    && changed.GetProperty("id").GetString() == sid && changed.GetProperty("status").GetString() == "completed")
                {
                    sidecar.Kill();
                    killed.TrySetResult();
                }
            };
            _ = c.BeginAsync("session/end", new JsonObject { ["sessionId"] = sid });
            await killed.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await using var next = await SidecarProcess.StartAsync(DataDir);
        var session = await next.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("completed", session.GetProperty("status").GetString());
        Assert.Equal("removed", session.GetProperty("worktree").GetProperty("state").GetString());
        Assert.False(Directory.Exists(path), $"the clean worktree {path} is still on disk");
        var events = await next.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["limit"] = 10000 });
        var worktreeStates = events.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "worktree")
            .Select(e => e.GetProperty("data").GetProperty("action").GetString()).ToList();
        Assert.Equal("removed", worktreeStates[^1]);
        Assert.Single(worktreeStates, s => s is "removed" or "kept");
    }

    private static string Git(string dir, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
        return output;
    }

    [Fact(Timeout = 120000)]
    public async Task SigkillDuringHeavyOutputToTwoClients_EveryEventEitherReceivedIsInTheLog_WithoutGaps_AndNoOldProcessSurvives()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        var sidecar = await SidecarProcess.StartAsync(DataDir);
        var received1 = new Dictionary<long, string>();
        var received2 = new Dictionary<long, string>();
        long bytes1 = 0, bytes2 = 0;
        string sid;
        List<int> oldProcesses;
        await using (sidecar)
        {
            var c1 = sidecar.Client;
            var socket = c1.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
            var s = await c1.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
            sid = s.GetProperty("id").GetString()!;
            var wid = s.GetProperty("workers")[0].GetProperty("id").GetString()!;

            // A second worker that ignores SIGHUP: the hang-up of its terminal does not end it.
            var stubborn = await c1.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash", ["args"] = new JsonArray("--norc", "-c", "trap '' HUP; exec sleep 1000") });
            var stubbornPid = stubborn.GetProperty("pid").GetInt32();

            c1.OnNotification = n => Record(n, received1, ref bytes1);
            using var c2 = await LeanClient.ConnectAsync(socket);
            c2.OnMessage = n => Record(n, received2, ref bytes2);
            await c1.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid });
            await c2.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid });
            await c1.RequestAsync("worker/input", new JsonObject { ["workerId"] = wid, ["data"] = "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 2000000000\r" });

            Assert.True(await Procs.WaitUntilAsync(() => Volatile.Read(ref bytes1) > BytesBeforeKill && Volatile.Read(ref bytes2) > BytesBeforeKill, TimeSpan.FromSeconds(60)), $"the clients got {bytes1} and {bytes2} bytes");
            oldProcesses = _oldProcesses = Procs.Descendants(sidecar.Pid);
            Assert.Contains(stubbornPid, oldProcesses);
            sidecar.Kill(); // SIGKILL
            await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await Task.WhenAll(c1.Reader, c2.Reader).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }

        Assert.True(received1.Count > 0 && received2.Count > 0);
        await using var restarted = await SidecarProcess.StartAsync(DataDir);
        var log = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await restarted.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = after, ["limit"] = 10000 });
            var events = page.GetProperty("events").EnumerateArray().ToList();
            log.AddRange(events);
            if (!page.GetProperty("hasMore").GetBoolean() || events.Count == 0)
            {
                break;
            }

            after = events[^1].GetProperty("seq").GetInt64();
        }

        Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(e => e.GetProperty("seq").GetInt64()));
        var bySeq = log.ToDictionary(e => e.GetProperty("seq").GetInt64(), e => e.GetRawText());
        foreach (var (name, received) in new[] { ("stdio client", received1), ("socket client", received2) })
        {
            // What a client received is gap-free from seq 1 and identical to the log.
            Assert.Equal(Enumerable.Range(1, received.Count).Select(i => (long)i), received.Keys.Order());
            foreach (var (seq, raw) in received)
            {
                Assert.True(bySeq.TryGetValue(seq, out var stored), $"{name} received seq {seq}, which is not in the log (log ends at {log.Count})");
                Assert.Equal(stored, raw);
            }
        }

        // Nothing of the old sidecar runs on: the stubborn worker included.
        Assert.True(await Procs.WaitUntilAsync(() => !oldProcesses.Any(Procs.IsAlive), TimeSpan.FromSeconds(10)),
            $"still alive after the restart: {string.Join(", ", oldProcesses.Where(Procs.IsAlive).Select(p => $"{p} ({File.ReadAllText($"/proc/{p}/cmdline").Replace('\0', ' ')})"))}");
    }

    private static void Record(JsonElement message, Dictionary<long, string> received, ref long bytes)
    {
        if (!message.TryGetProperty("method", out var m) || m.GetString() != "session/event")
        {
            return;
        }

        var e = message.GetProperty("params").GetProperty("event");
        var raw = e.GetRawText();
        lock (received)
        {
            received[e.GetProperty("seq").GetInt64()] = raw;
        }

        Interlocked.Add(ref bytes, raw.Length);
    }
}
