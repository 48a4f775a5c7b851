using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>The sidecar killed with SIGKILL in the middle of a flood, then started again.</summary>
public sealed class CrashTests : IDisposable
{
    private const long BytesBeforeKill = 4_000_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-crash-").FullName;
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
    public async Task SigkillDuringHeavyOutputToTwoClients_EveryEventEitherReceivedIsInTheLog_WithoutGaps_AndNoOldProcessSurvives()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        var sidecar = await SidecarProcess.StartAsync(_dir);
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
        await using var restarted = await SidecarProcess.StartAsync(_dir);
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
