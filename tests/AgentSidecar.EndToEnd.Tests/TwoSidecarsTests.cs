using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// Two sidecars on one data directory (two editor windows, the CLI beside an editor): the database,
/// not either process's memory, decides event numbers and who owns a session.
/// </summary>
public sealed class TwoSidecarsTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-two-").FullName;
    /// <summary>The data directory: a folder of its own in the test's folder (HOME sits beside it).</summary>
    private string DataDir => Path.Combine(_dir, "data");
    private readonly string _ws = Directory.CreateTempSubdirectory("ws-").FullName;

    public void Dispose()
    {
        foreach (var d in new[] { _dir, _ws })
        {
            try
            {
                Directory.Delete(d, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static JsonObject Id(string sid) => new() { ["sessionId"] = sid };

    [Fact(Timeout = 120000)]
    public async Task SuspendedAndResumedInTurn_ByTwoSidecars_TheLogStaysWhole()
    {
        await using var a = await SidecarProcess.StartAsync(DataDir);
        await using var b = await SidecarProcess.StartAsync(DataDir);
        var sid = (await a.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = _ws, ["provider"] = "shell" })).GetProperty("id").GetString()!;
        await a.Client.RequestAsync("session/suspend", Id(sid), Wait);
        Assert.Equal("active", (await b.Client.RequestAsync("session/resume", Id(sid), Wait)).GetProperty("status").GetString());
        await b.Client.RequestAsync("session/suspend", Id(sid), Wait);

        // A's memory of the session (its last event number, its event stream) is stale now.
        var resumed = await a.Client.RequestAsync("session/resume", Id(sid), Wait);
        Assert.Equal("active", resumed.GetProperty("status").GetString());
        Assert.Equal("suspended", (await a.Client.RequestAsync("session/suspend", Id(sid), Wait)).GetProperty("status").GetString());

        var events = await a.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["limit"] = 10000 });
        var seqs = events.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
        var statuses = events.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("channel").GetString() == "system" && e.GetProperty("type").GetString() == "status")
            .Select(e => e.GetProperty("data").GetProperty("status").GetString()).ToList();
        Assert.Equal(3, statuses.Count(s => s == "suspended"));

        // Both still answer for it, and both shut down cleanly.
        Assert.Equal("suspended", (await b.Client.RequestAsync("session/get", Id(sid))).GetProperty("status").GetString());
        await a.Client.RequestAsync("shutdown", new JsonObject(), Wait);
        await b.Client.RequestAsync("shutdown", new JsonObject(), Wait);
    }

    [Fact(Timeout = 180000)]
    public async Task ResumedByTwoSidecarsAtOnce_ExactlyOneWins_TheOtherIsToldWhoOwnsIt()
    {
        await using var a = await SidecarProcess.StartAsync(DataDir);
        await using var b = await SidecarProcess.StartAsync(DataDir);
        var sid = (await a.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = _ws, ["provider"] = "shell" })).GetProperty("id").GetString()!;
        var owner = a;
        for (var round = 0; round < 5; round++)
        {
            await owner.Client.RequestAsync("session/suspend", Id(sid), Wait);
            var both = new[] { a, b }.Select(async s =>
            {
                try
                {
                    return (Sidecar: s, Session: (JsonElement?)await s.Client.RequestAsync("session/resume", Id(sid), Wait), Error: (RpcErrorException?)null);
                }
                catch (RpcErrorException ex)
                {
                    return (Sidecar: s, Session: null, Error: ex);
                }
            }).ToList();
            var results = await Task.WhenAll(both);
            var winners = results.Where(r => r.Session is not null).ToList();
            Assert.Single(winners);
            var loser = results.Single(r => r.Error is not null);
            Assert.Equal(1004, loser.Error!.Code);
            Assert.True(loser.Error.ErrorData.HasValue, $"1004 without data.owner: {loser.Error.Message}");
            Assert.Equal(winners[0].Sidecar.Pid, loser.Error.ErrorData!.Value.GetProperty("owner").GetProperty("pid").GetInt32());

            // One agent process: the winner's, alive; no worker of the loser's ever started.
            var workers = winners[0].Session!.Value.GetProperty("workers").EnumerateArray().Where(w => w.GetProperty("status").GetString() == "running").ToList();
            Assert.Single(workers);
            Assert.True(ShellSessionTests.IsAlive(workers[0].GetProperty("pid").GetInt32()));
            var listed = await winners[0].Sidecar.Client.RequestAsync("worker/list", Id(sid));
            Assert.Single(listed.GetProperty("workers").EnumerateArray(), w => w.GetProperty("status").GetString() == "running");
            owner = winners[0].Sidecar;
        }
    }

    [Fact(Timeout = 240000)]
    public async Task TwoSidecarsChurningSessions_NoInternalError_TheLogEqualsWhatTheirClientsSaw()
    {
        await using var a = await SidecarProcess.StartAsync(DataDir);
        await using var b = await SidecarProcess.StartAsync(DataDir);
        var seen = new ConcurrentDictionary<(string Session, long Seq), string>();
        foreach (var s in new[] { a, b })
        {
            s.Client.OnNotification = n =>
            {
                if (n.GetProperty("method").GetString() == "session/event")
                {
                    var e = n.GetProperty("params").GetProperty("event");
                    seen[(e.GetProperty("sessionId").GetString()!, e.GetProperty("seq").GetInt64())] = Describe(e);
                }
            };
        }

        var internalErrors = new ConcurrentBag<string>();
        var sessions = new ConcurrentBag<string>();
        var rounds = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        async Task ChurnAsync(SidecarProcess me, SidecarProcess other)
        {
            while (DateTime.UtcNow < until)
            {
                try
                {
                    var s = await me.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = _ws, ["provider"] = "shell", ["reuse"] = false }, Wait);
                    var sid = s.GetProperty("id").GetString()!;
                    sessions.Add(sid);
                    await me.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid });
                    await other.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid });
                    await me.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.GetProperty("workers")[0].GetProperty("id").GetString(), ["data"] = "echo churn-$((6*7))\r" });
                    await me.Client.RequestAsync("session/suspend", Id(sid), Wait);
                    await other.Client.RequestAsync("session/resume", Id(sid), Wait);
                    await other.Client.RequestAsync("session/suspend", Id(sid), Wait);
                    await me.Client.RequestAsync("session/resume", Id(sid), Wait);
                    await me.Client.RequestAsync("session/end", Id(sid), Wait);
                    Interlocked.Increment(ref rounds);
                }
                catch (RpcErrorException ex) when (ex.Code == -32603)
                {
                    internalErrors.Add(ex.Message);
                }
            }
        }

        await Task.WhenAll(ChurnAsync(a, b), ChurnAsync(b, a));
        Assert.Empty(internalErrors);
        Assert.True(rounds >= 4, $"only {rounds} rounds in 45 s");

        // Every event a client saw is the logged event with that number, and each log has no gap.
        foreach (var sid in sessions)
        {
            var events = (await a.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["limit"] = 10000 })).GetProperty("events").EnumerateArray().ToList();
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
            foreach (var e in events)
            {
                if (seen.TryGetValue((sid, e.GetProperty("seq").GetInt64()), out var described))
                {
                    Assert.Equal(Describe(e), described);
                }
            }
        }

        Assert.NotEmpty(seen);
    }

    /// <summary>An event's content, its JSON normalised (a stream copies the stored text, session/events re-serialises it).</summary>
    private static string Describe(JsonElement e) =>
        $"{e.GetProperty("channel").GetString()}/{e.GetProperty("type").GetString()}/{(e.TryGetProperty("workerId", out var w) ? w.GetString() : null)}/{JsonNode.Parse(e.GetProperty("data").GetRawText())?.ToJsonString()}";
}
