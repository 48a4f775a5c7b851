using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>Slow clients, foreign owners, split characters, the last bytes before an exit.</summary>
public sealed class RobustnessTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-robust-").FullName;
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
    /// The stalled client's side of a stall: reads nothing until its receive queue has not grown for
    /// <paramref name="quiet"/> (the sidecar has made no progress writing to it for that long).
    /// </summary>
    internal static async Task StallUntilQuietAsync(Socket client, TimeSpan quiet, TimeSpan timeout)
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

    private string NewWorkspace()
    {
        var w = Path.Combine(_dir, "ws-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(w);
        return w;
    }

    [Fact(Timeout = 120000)]
    public async Task ClientThatStopsReading_IsDetachedWithOverflow_OthersKeepStreaming_AndItCanReattachFromItsCursor()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, extraArgs: ["--client-stall-seconds", "1"]);
        var c1 = sidecar.Client;
        var socketPath = c1.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var s = await c1.RequestAsync("session/start", new JsonObject { ["workspace"] = NewWorkspace(), ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;
        var wid = s.GetProperty("workers")[0].GetProperty("id").GetString()!;
        var a1 = (await c1.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid })).GetProperty("attachId").GetString()!;

        // A raw socket client that attaches and then stops reading.
        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        raw.ReceiveBufferSize = 4096;
        await raw.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), TestContext.Current.CancellationToken);
        var stream = new NetworkStream(raw);
        async Task SendAsync(string json)
        {
            var body = Encoding.UTF8.GetBytes(json);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
        }

        await SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}""");
        await SendAsync($$$"""{"jsonrpc":"2.0","id":2,"method":"session/attach","params":{"sessionId":"{{{sid}}}"}}""");

        // ~30 MB of output: far more than the socket buffers and the 1 MiB high-water mark.
        await c1.RequestAsync("worker/input", new JsonObject { ["workerId"] = wid, ["data"] = "for i in $(seq 1 300); do head -c 100000 /dev/zero | tr '\\0' 'x'; echo; done; echo FLOOD-$((3*3))\r" });
        await c1.WaitForEventsAsync(a1, e => ShellSessionTests.Output(e).Contains("FLOOD-9", StringComparison.Ordinal), Wait);

        var rss = ReadRssKb(sidecar.Pid);
        Assert.True(rss < 400_000, $"the sidecar's memory grew to {rss} kB");

        // Stay stalled until the sidecar has written nothing to this client for well past the stall
        // timeout (1 s): by then it must have detached it. Reading earlier would end the stall.
        await StallUntilQuietAsync(raw, TimeSpan.FromSeconds(2), Wait);

        // Now read what the stalled client was sent: it ends with session/detached (overflow).
        var client = new RpcClient(stream, stream);
        JsonElement detached;
        try
        {
            detached = await client.WaitForNotificationAsync(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/detached", Wait);
        }
        catch (TaskCanceledException)
        {
            var got = client.Notifications;
            Assert.Fail($"no session/detached: the stalled client got {got.Count} messages, last: {(got.Count > 0 ? got[^1].GetRawText()[..Math.Min(300, got[^1].GetRawText().Length)] : "none")}; sidecar stderr: {sidecar.Stderr}");
            throw;
        }

        var p = detached.GetProperty("params");
        Assert.Equal("overflow", p.GetProperty("reason").GetString());
        var lastSeq = p.GetProperty("lastSeq").GetInt64();
        var received = client.Events(p.GetProperty("attachId").GetString()!).Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, received.Count).Select(i => (long)i), received);
        Assert.Equal(received.Count == 0 ? 0 : received[^1], lastSeq);

        // Re-attach from the cursor: the rest arrives, without a gap.
        var again = await client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = lastSeq });
        var aid = again.GetProperty("attachId").GetString()!;
        var rest = await client.WaitForEventsAsync(aid, e => ShellSessionTests.Output(e).Contains("FLOOD-9", StringComparison.Ordinal), Wait);
        Assert.Equal(lastSeq + 1, rest[0].GetProperty("seq").GetInt64());
    }

    [Fact(Timeout = 90000)]
    public async Task SessionOwnedByAnotherLiveSidecar_Is1004_NamingTheOwner()
    {
        await using var a = await SidecarProcess.StartAsync(DataDir);
        var s = await a.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = NewWorkspace(), ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;
        await using var b = await SidecarProcess.StartAsync(DataDir, home: Path.Combine(_dir, "home-b"));
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => b.Client.RequestAsync("session/end", new JsonObject { ["sessionId"] = sid }));
        Assert.Equal(1004, ex.Code);
        Assert.Equal(a.Pid, ex.ErrorData!.Value.GetProperty("owner").GetProperty("pid").GetInt32());
        var ex2 = await Assert.ThrowsAsync<RpcErrorException>(() => b.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.GetProperty("workers")[0].GetProperty("id").GetString(), ["data"] = "x" }));
        Assert.Equal(1004, ex2.Code);

        // The owner still runs it.
        Assert.Equal("active", (await a.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());
        var list = await b.Client.RequestAsync("session/list", null);
        Assert.Contains(list.GetProperty("sessions").EnumerateArray(), x => x.GetProperty("id").GetString() == sid);
    }

    [Fact(Timeout = 90000)]
    public async Task MultibyteOutput_SplitAcrossReads_HasNoBrokenCharacters()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = NewWorkspace(), ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;
        var a = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("pty") })).GetProperty("attachId").GetString()!;
        var t = await c.RequestAsync("worker/start", new JsonObject
        {
            ["sessionId"] = sid,
            ["command"] = "bash",
            ["args"] = new JsonArray("--norc", "-c", "s=; for i in $(seq 1 200); do s=\"$s\u00e9\u20ac\U0001F600\u4e2d\"; done; for j in $(seq 1 100); do printf %s \"$s\"; done; echo; echo END-$((2+3))"),
        });
        var wid = t.GetProperty("id").GetString()!;
        var events = await c.WaitForEventsAsync(a, e => e.Any(x => x.GetProperty("type").GetString() == "exit" && x.GetProperty("workerId").GetString() == wid), Wait);
        Assert.All(events, e => Assert.Equal("pty", e.GetProperty("channel").GetString()));
        var text = ShellSessionTests.Output(events, wid);
        Assert.Contains("END-5", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\uFFFD', text);
        Assert.Equal(20000, text.Split('\u20ac').Length - 1);
        Assert.Equal(20000, text.Split("\U0001F600").Length - 1);
        Assert.True(events.Count(x => x.GetProperty("type").GetString() == "output" && x.GetProperty("workerId").GetString() == wid) > 1, "the output should span several events");
    }

    [Fact(Timeout = 90000)]
    public async Task WorkerThatPrintsAndExitsAtOnce_DeliversEveryByteBeforeItsExit()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = NewWorkspace(), ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;
        var a = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid })).GetProperty("attachId").GetString()!;
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var t = await c.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "bash", ["args"] = new JsonArray("--norc", "-c", "head -c 1000000 /dev/zero | tr '\\0' x") });
            ids.Add(t.GetProperty("id").GetString()!);
        }

        var events = await c.WaitForEventsAsync(a, e => ids.All(id => e.Any(x => x.GetProperty("type").GetString() == "exit" && x.GetProperty("workerId").GetString() == id)), Wait);
        foreach (var id in ids)
        {
            var mine = events.Where(e => e.TryGetProperty("workerId", out var w) && w.GetString() == id && e.GetProperty("channel").GetString() == "pty").ToList();
            Assert.Equal("exit", mine[^1].GetProperty("type").GetString());
            Assert.Equal(0, mine[^1].GetProperty("data").GetProperty("exitCode").GetInt32());
            Assert.Equal(1_000_000, ShellSessionTests.Output(mine).Count(ch => ch == 'x'));
        }
    }

    private static long ReadRssKb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
