using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>
/// A suspend or end whose final commit fails after the session's processes were stopped (the log
/// cannot be written: RLIMIT_FSIZE as in <see cref="DiskFullTests"/>). Issue 16: the session was
/// left half-stopped (processes dead, live in memory, active in the database), and every later
/// suspend or end answered at once with the session still active, changing nothing.
/// </summary>
public sealed class FailedStopTests : IDisposable
{
    /// <summary>RLIMIT_FSIZE under which no frame of the write-ahead log fits (its header alone is 32 bytes, a frame 24 + a 4 KiB page).</summary>
    private const ulong NothingFits = 1024;

    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-stop-").FullName;

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

    [Theory(Timeout = 120000)]
    [InlineData("session/suspend", "suspended")]
    [InlineData("session/end", "completed")]
    public async Task AStopWhoseCommitFails_GivesAClearError_TheSessionStaysLiveHere_AndAskingAgainRecordsIt(string stop, string status)
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
        var sid = s.GetProperty("id").GetString()!;
        var shellPid = s.GetProperty("workers")[0].GetProperty("pid").GetInt32();

        // Problem: a limit a little above the files' sizes (as DiskFullTests sets) let a small
        // commit through now and then (the write-ahead log is reused from its start after a
        // checkpoint), so the stop was sometimes recorded. Solution: a limit below every offset the
        // log writes at: Linux refuses any write() past RLIMIT_FSIZE, wherever the file ends.
        DiskFullTests.SetFileSizeLimit(sidecar.Pid, NothingFits);
        try
        {
            var error = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync(stop, new JsonObject { ["sessionId"] = sid }, TimeSpan.FromSeconds(30)));
            Assert.Equal(-32603, error.Code);
            Assert.True(
                System.Text.RegularExpressions.Regex.IsMatch(error.Message, "(?i)disk|full|I/O") && error.Message.Contains("could not be recorded", StringComparison.Ordinal),
                $"not a clear error: {error.Message}");
            TestContext.Current.SendDiagnosticMessage($"{stop}: {error.Message}");
            Assert.False(Procs.Stat(shellPid) is { } stat && stat[0] != "Z", "the session's shell still runs after the stop");

            // What memory says is what the database says: active, owned by this sidecar.
            var view = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
            Assert.Equal("active", view.GetProperty("status").GetString());
            Assert.Equal(sidecar.Pid, view.GetProperty("owner").GetProperty("pid").GetInt32());
        }
        finally
        {
            DiskFullTests.SetFileSizeLimit(sidecar.Pid, ulong.MaxValue);
        }

        // Asked again once writes work, the stop is recorded.
        var stopped = await c.RequestAsync(stop, new JsonObject { ["sessionId"] = sid });
        Assert.Equal(status, stopped.GetProperty("status").GetString());
        Assert.Equal(status, (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());
        if (stop != "session/suspend")
        {
            return;
        }

        // A suspended one resumes with its shell started again (it was running when the first try stopped it).
        var resumed = await c.RequestAsync("session/resume", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("active", resumed.GetProperty("status").GetString());
        var shell = resumed.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("status").GetString() == "running").GetProperty("id").GetString()!;
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = shell, ["data"] = "echo back-$((4+4))\r" });
        var echoed = await Procs.WaitUntilAsync(
            () => c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["afterSeq"] = 0, ["limit"] = 10000, ["channels"] = new JsonArray("pty") }).GetAwaiter().GetResult()
                .GetProperty("events").EnumerateArray().Any(e => e.GetProperty("type").GetString() == "output" && e.GetProperty("data").GetProperty("data").GetString()!.Contains("back-8", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30));
        Assert.True(echoed, "the resumed session's shell does not answer");
    }
}
