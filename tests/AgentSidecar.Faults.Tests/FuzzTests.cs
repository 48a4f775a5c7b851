using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>100,000 fuzzed frames, then broken framing: the sidecar answers what it must and lives on.</summary>
public sealed class FuzzTests : IDisposable
{
    private const int Frames = 100_000;
    private const int Window = 400;
    private const int MaxMessageBytes = 1 << 20;

    /// <summary>The sidecar's memory may not pass this at any point (its idle size is ~60-100 MB).</summary>
    private const long RssBoundKb = 400_000;

    /// <summary>Growth allowed between the first and the second half of the run's peaks (see the check).</summary>
    private const long RssGrowthKb = 160_000;


    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-fuzz-").FullName;

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

    [Fact(Timeout = 240000)]
    public async Task HundredThousandFuzzedFrames_EachWellFramedMessageGetsItsAnswer_NoCrash_MemoryBounded()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        // The managed heap is capped (as in SlowClientTests): a leak per message runs it out of
        // memory, and the GC held to the cap keeps RSS from drifting with its own growth. Problem:
        // the creep check below failed now and then (RSS +66 MB between the halves, then back
        // down) because the GC grows its young generation's budget as it likes, so RSS followed
        // where it last collected rather than what was alive. Solution: a fixed 16 MiB young
        // generation, so RSS tracks live memory and a leak shows as growth.
        await using var sidecar = await SidecarProcess.StartAsync(
            DataDir,
            extraArgs: ["--max-message-bytes", MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            environment: new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x10000000", ["DOTNET_GCgen0size"] = "0x1000000" });
        var main = sidecar.Client;
        var socket = main.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var s = await main.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;

        // Input fuzzed into a real terminal goes to a raw-mode cat that throws it away.
        var sink = await main.RequestAsync("worker/start", new JsonObject { ["sessionId"] = sid, ["command"] = "sh", ["args"] = new JsonArray("-c", "stty raw -echo; exec cat > /dev/null") });
        var wid = sink.GetProperty("id").GetString()!;

        using var fuzz = await LeanClient.ConnectAsync(socket);
        var answers = new ConcurrentDictionary<string, ConcurrentBag<int>>(StringComparer.Ordinal);
        var nullAnswers = new ConcurrentDictionary<int, int>();
        long answered = 0;
        fuzz.OnMessage = m =>
        {
            if (m.TryGetProperty("method", out _))
            {
                return; // session/changed and other notifications.
            }

            var code = m.TryGetProperty("error", out var e) ? e.GetProperty("code").GetInt32() : 0;
            var id = m.GetProperty("id");
            if (id.ValueKind == JsonValueKind.Null)
            {
                nullAnswers.AddOrUpdate(code, 1, (_, n) => n + 1);
            }
            else
            {
                answers.GetOrAdd(FuzzFrames.IdKey(id), _ => []).Add(code);
                Interlocked.Increment(ref answered);
            }
        };

        var generator = new FuzzFrames(seed: 7, sid, wid);
        var expected = new Dictionary<string, List<int[]>>(StringComparer.Ordinal);
        var expectedNull = new Dictionary<int, int>();
        long expectedWithId = 0;
        var rss = new List<long>();
        var recent = new Queue<byte[]>();
        var notifications = 0;
        void Expect(Expectation x)
        {
            if (x.MayGetInvalidParams)
            {
                notifications++;
            }

            if (!x.Answered)
            {
                return;
            }

            if (x.Id is null)
            {
                expectedNull[x.Codes![0]] = expectedNull.GetValueOrDefault(x.Codes[0]) + 1;
                return;
            }

            if (!expected.TryGetValue(x.Id, out var list))
            {
                expected[x.Id] = list = [];
            }

            list.Add(x.Codes!);
            expectedWithId++;
        }

        for (var i = 0; i < Frames; i++)
        {
            byte[] body = (i % 10_000) switch
            {
                // A few special frames: an empty body, nesting past the parser's limit, a body over the limit.
                17 => [],
                18 => FuzzFrames.TooDeep(9_000_000 + i, 65 + (i / 10_000)),
                19 => FuzzFrames.TooDeep(9_000_000 + i, 5000),
                20 => Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"worker/input\",\"params\":{\"data\":\"" + new string('y', MaxMessageBytes) + "\"}}"),
                _ => generator.Next(),
            };
            recent.Enqueue(body);
            if (recent.Count > 4)
            {
                recent.Dequeue();
            }

            Expect(body.Length > MaxMessageBytes ? new Expectation(null, [1007], true) : FuzzFrames.Classify(body));
            try
            {
                await fuzz.SendAsync(body);
            }
            catch (IOException)
            {
                Assert.Fail($"the sidecar closed the fuzz connection at frame {i}; the last frames: {string.Join(" | ", recent.Select(b => Shorten(Encoding.UTF8.GetString(b))))}; stderr: {Tail(sidecar.Stderr)}");
            }
            while (expectedWithId - Interlocked.Read(ref answered) > Window)
            {
                Assert.False(fuzz.Reader.IsCompleted, $"the sidecar closed the fuzz connection after frame {i}; stderr: {Tail(sidecar.Stderr)}");
                await Task.Delay(1, TestContext.Current.CancellationToken);
            }

            if (i % 2000 == 0)
            {
                rss.Add(Procs.RssKb(sidecar.Pid));
            }
        }

        var allAnswered = await Procs.WaitUntilAsync(
            () => Interlocked.Read(ref answered) >= expectedWithId && expectedNull.All(kv => nullAnswers.GetValueOrDefault(kv.Key) >= kv.Value),
            TimeSpan.FromSeconds(60));
        rss.Add(Procs.RssKb(sidecar.Pid));
        var kinds = string.Join(", ", generator.Kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"));
        Assert.True(allAnswered, $"answered {answered} of {expectedWithId} requests; null-id errors {Show(nullAnswers)} of {Show(expectedNull)}; frames: {kinds}; stderr: {Tail(sidecar.Stderr)}");

        // Exactly the answers the protocol asks for: nothing missing, nothing extra, the right codes.
        var invalidParams = nullAnswers.GetValueOrDefault(-32602);
        nullAnswers.TryRemove(-32602, out _);
        Assert.Equal(Show(expectedNull), Show(nullAnswers));
        Assert.InRange(invalidParams, 0, notifications);
        var wrong = new List<string>();
        foreach (var (id, codes) in answers)
        {
            var want = expected.GetValueOrDefault(id) ?? [];
            if (codes.Count != want.Count)
            {
                wrong.Add($"id {Shorten(id)}: {codes.Count} answers for {want.Count} requests");
                continue;
            }

            foreach (var code in codes)
            {
                var ok = want.Any(w => w.Length == 0 ? code is not (-32603 or -32700) : w.Contains(code));
                if (!ok)
                {
                    wrong.Add($"id {Shorten(id)}: code {code}, wanted {string.Join(" or ", want.Select(w => w.Length == 0 ? "any but -32603/-32700" : string.Join("/", w)))}");
                }
            }
        }

        wrong.AddRange(expected.Keys.Where(id => !answers.ContainsKey(id)).Select(id => $"id {Shorten(id)}: no answer"));
        Assert.True(wrong.Count == 0, $"{wrong.Count} wrong answers, e.g.: {string.Join("; ", wrong.Take(8))}; stderr: {Tail(sidecar.Stderr)}");

        // Memory stayed bounded and did not creep up: the second half's peak may pass the first
        // half's by at most RssGrowthKb. Problem: with 64 MB this failed on a loaded machine when the
        // GC let the heap grow ~110 MB in one stretch and then settled ~75 MB higher (144 → 256 →
        // 217 MB, flat after); a "must come back down" rule failed on a quiet run's 3 MB drift.
        // A leak of a few kB per frame still fails it, and anything large hits RssBoundKb.
        var firstHalf = rss.Take(rss.Count / 2).Max();
        var secondHalf = rss.Skip(rss.Count / 2).Max();
        Assert.True(rss.Max() < RssBoundKb, $"RSS reached {rss.Max()} kB: {string.Join(" ", rss)}");
        Assert.True(secondHalf - firstHalf < RssGrowthKb, $"RSS grew from {firstHalf} to {secondHalf} kB: {string.Join(" ", rss)}");

        // Still serving, on both connections, with the session and its terminals intact.
        Assert.Equal("active", (await main.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());
        await fuzz.RequestAsync("provider/list", new JsonObject());
        TestContext.Current.SendDiagnosticMessage($"fuzz: {Frames} frames ({kinds}); {expectedWithId} requests answered; null-id errors {Show(nullAnswers)}; RSS kB {string.Join(" ", rss)}");
    }

    [Fact(Timeout = 60000)]
    public async Task BrokenFraming_OnSocketConnections_ClosesOnlyThatConnection_AndOnStdioExitsWithCode1()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        var sidecar = await SidecarProcess.StartAsync(DataDir);
        var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
        var shellPid = s.GetProperty("workers")[0].GetProperty("pid").GetInt32();
        string[] headers =
        [
            "Content-Length: -5\r\n\r\n{}",
            "Content-Length: abc\r\n\r\n{}",
            "Content-Length: 99999999999999999999999\r\n\r\n{}",
            "Content-Length 12\r\n\r\n{}",
            "Content-Type: application/json\r\n\r\n{}",
            "Content-Length: 0x10\r\n\r\n{}",
            "Content-Length: 1e3\r\n\r\n{}",
            "Content-Length:\r\n\r\n{}",
            "\0\0\0\0\r\n\r\n",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"provider/list\"}\r\n\r\n",
            new string('a', 9000),
            "Content-Length: 2\r\n" + new string('b', 9000) + "\r\n\r\n{}",
        ];
        foreach (var header in headers)
        {
            using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await raw.ConnectAsync(new UnixDomainSocketEndPoint(socket), TestContext.Current.CancellationToken);
            using var stream = new NetworkStream(raw);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(header), TestContext.Current.CancellationToken);
            var buffer = new byte[4096];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int n;
            do
            {
                // Whatever it answers first, the sidecar must end this connection.
                n = await stream.ReadAsync(buffer, cts.Token);
            }
            while (n > 0);
        }

        // The stdio client was never disturbed.
        await sidecar.Client.RequestAsync("provider/list", new JsonObject());

        // On stdio, lost framing ends the sidecar with code 1, and it takes its children along.
        await sidecar.Client.SendBytesAsync(Encoding.ASCII.GetBytes("Content-Length: -1\r\n\r\n"));
        Assert.Equal(1, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(await Procs.WaitUntilAsync(() => !Procs.IsAlive(shellPid), TimeSpan.FromSeconds(5)), "the session's shell outlived the sidecar");
        await sidecar.DisposeAsync();
    }

    private static string Show<T>(IEnumerable<KeyValuePair<int, T>> d) => string.Join(",", d.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"));

    private static string Shorten(string s) => s.Length > 200 ? s[..200] + "…" : s;

    private static string Tail(string s) => s.Length > 3000 ? s[^3000..] : s;
}
