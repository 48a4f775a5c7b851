using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>A client that stops reading in the middle of a flood.</summary>
public sealed class SlowClientTests : IDisposable
{
    private const int StallSeconds = 10;

    /// <summary>Each flood: 40 MB, far beyond the socket buffers and the 1 MiB per-client high-water mark.</summary>
    private const string Flood = "head -c 40000000 /dev/zero | tr '\\0' z; echo; echo FLOOD-$((N*3))\r";

    /// <summary>
    /// The sidecar's managed heap is capped at this (DOTNET_GCHeapHardLimit) in this test: keeping
    /// what a stalled client misses (three floods, 120 MB) in memory would run it out of memory,
    /// while the GC, held to the cap, keeps RSS measurements from drifting with its own growth.
    /// </summary>
    private const long HeapLimitBytes = 192L * 1024 * 1024;

    /// <summary>RSS may not pass the heap cap plus the runtime's own native memory.</summary>
    private const long RssBoundKb = (HeapLimitBytes / 1024) + 120_000;

    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-slow-").FullName;

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

    [Fact(Timeout = 150000)]
    public async Task ClientThatStopsReading_MemoryBounded_OthersNotHeldBack_DetachedWithOverflow_ReattachesFromItsCursor()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(
            DataDir,
            extraArgs: ["--client-stall-seconds", StallSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            environment: new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x" + HeapLimitBytes.ToString("x", System.Globalization.CultureInfo.InvariantCulture) });
        var socketPath = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;
        var wid = s.GetProperty("workers")[0].GetProperty("id").GetString()!;

        // A fast client that only watches for the marker.
        using var fast = await LeanClient.ConnectAsync(socketPath);
        var marks = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        fast.OnMessage = m =>
        {
            // The computed marker (FLOOD-3, -6, -9), not the echo of the command line.
            if (m.TryGetProperty("params", out var p) && p.TryGetProperty("event", out var e) && e.GetProperty("type").GetString() == "output"
                && System.Text.RegularExpressions.Regex.Match(e.GetProperty("data").GetProperty("data").GetString()!, @"FLOOD-(\d+)") is { Success: true } match)
            {
                marks[int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)] = true;
            }
        };
        await fast.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid });

        async Task<TimeSpan> FloodAsync(int n)
        {
            var sw = Stopwatch.StartNew();
            await fast.RequestAsync("worker/input", new JsonObject { ["workerId"] = wid, ["data"] = $"N={n}; " + Flood });
            Assert.True(await Procs.WaitUntilAsync(() => marks.ContainsKey(n * 3), TimeSpan.FromSeconds(60)), "the fast client never saw the end of the flood");
            return sw.Elapsed;
        }

        // Baseline: the fast client alone.
        var alone = await FloodAsync(1);
        var rssBefore = Procs.RssKb(sidecar.Pid);

        // A raw socket client attaches, then reads nothing.
        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        raw.ReceiveBufferSize = 4096;
        await raw.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), TestContext.Current.CancellationToken);
        var stream = new NetworkStream(raw);
        foreach (var json in new[] { """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}""", $$$"""{"jsonrpc":"2.0","id":2,"method":"session/attach","params":{"sessionId":"{{{sid}}}"}}""" })
        {
            var body = Encoding.UTF8.GetBytes(json);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n").Concat(body).ToArray(), TestContext.Current.CancellationToken);
        }

        var rssMax = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                rssMax = Math.Max(rssMax, Procs.RssKb(sidecar.Pid));
                await Task.Delay(100, CancellationToken.None);
            }
        }, TestContext.Current.CancellationToken);
        var withStalled = await FloodAsync(2);
        var withStalled2 = await FloodAsync(3);
        var withStalled3 = await FloodAsync(4);
        await sampling.CancelAsync();
        await sampler;

        // Not held back: each flood ends for the fast client long before the stalled one could be
        // detached (a fast client that waited for it would take the stall timeout or more).
        Assert.True(withStalled < TimeSpan.FromSeconds(StallSeconds) && withStalled2 < TimeSpan.FromSeconds(StallSeconds) && withStalled3 < TimeSpan.FromSeconds(StallSeconds),
            $"with a stalled client the flood took {withStalled.TotalSeconds:0.0} s and {withStalled2.TotalSeconds:0.0} s (alone {alone.TotalSeconds:0.0} s)");
        Assert.True(rssMax < RssBoundKb, $"RSS grew from {rssBefore} to {rssMax} kB while a client was stalled");

        // Still alive (not out of memory) and serving.
        Assert.Equal("active", (await sidecar.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());

        // Now read the stalled client once the sidecar has written nothing to it for longer than the
        // stall timeout (reading earlier would end the stall): its stream ends with session/detached (overflow).
        await StallUntilQuietAsync(raw, TimeSpan.FromSeconds(StallSeconds + 2), TimeSpan.FromSeconds(60));
        var client = new RpcClient(stream, stream);
        JsonElement detached;
        try
        {
            detached = await client.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/detached", TimeSpan.FromSeconds(30));
        }
        catch (TaskCanceledException)
        {
            var got = client.Notifications;
            var last = got.Count > 0 ? got[^1].GetRawText() : "none";
            Assert.Fail($"no session/detached: the stalled client got {got.Count} messages, last: {last[..Math.Min(300, last.Length)]}; stderr: {sidecar.Stderr}");
            throw;
        }

        var p = detached.GetProperty("params");
        Assert.Equal("overflow", p.GetProperty("reason").GetString());
        var lastSeq = p.GetProperty("lastSeq").GetInt64();
        var received = client.Events(p.GetProperty("attachId").GetString()!).Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, received.Count).Select(i => (long)i), received);
        Assert.Equal(received.Count == 0 ? 0 : received[^1], lastSeq);

        // Re-attach from the cursor: the rest, without a gap, through the end of the last flood.
        var again = await client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = lastSeq });
        var rest = await client.WaitForEventsAsync(again.GetProperty("attachId").GetString()!, e => ShellOutput(e).Contains("FLOOD-12", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, rest.Count).Select(i => lastSeq + 1 + i), rest.Select(e => e.GetProperty("seq").GetInt64()));
        TestContext.Current.SendDiagnosticMessage($"slow client: 40 MB flood alone {alone.TotalSeconds:0.00} s, with a stalled client {withStalled.TotalSeconds:0.00} / {withStalled2.TotalSeconds:0.00} / {withStalled3.TotalSeconds:0.00} s; RSS {rssBefore} -> max {rssMax} kB; detached at seq {lastSeq}");
    }

    /// <summary>
    /// The stalled client's side of a stall: reads nothing until its receive queue has not grown for
    /// <paramref name="quiet"/> (the sidecar has made no progress writing to it for that long).
    /// </summary>
    private static async Task StallUntilQuietAsync(Socket client, TimeSpan quiet, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var queued = client.Available;
        var still = DateTime.UtcNow;
        while (DateTime.UtcNow - still < quiet)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the sidecar was still writing to the stalled client after {timeout.TotalSeconds} s ({queued} bytes queued)");
            await Task.Delay(50, TestContext.Current.CancellationToken);
            if (client.Available != queued)
            {
                (queued, still) = (client.Available, DateTime.UtcNow);
            }
        }
    }

    private static string ShellOutput(List<JsonElement> events) =>
        string.Concat(events.Where(e => e.GetProperty("type").GetString() == "output").Select(e => e.GetProperty("data").GetProperty("data").GetString()));
}
