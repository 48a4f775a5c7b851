using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// Sessions outlive the editor window: the built sidecar as processes over stdio, a real PTY and a
/// real SQLite file. The editor leaving is the end of the sidecar's stdin (what a window reload
/// does); the editor coming back is a new sidecar started over stdio in the workspace.
/// </summary>
public sealed partial class LingerTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    // Short paths: the sidecar's unix socket lives in the data directory (108 bytes at most).
    // The data directory has a folder of its own in the test's (HOME sits beside it, not inside).
    private readonly string _root = Directory.CreateTempSubdirectory("as-linger-").FullName;
    private readonly string _workspace = Directory.CreateTempSubdirectory("as-ws-").FullName;

    private string _dataDir => Path.Combine(_root, "d");

    public void Dispose()
    {
        foreach (var dir in new[] { _root, _workspace })
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact(Timeout = 120000)]
    public async Task TheEditorLeaves_TheSidecarLingers_AndTheNextEditorIsHandedOverToIt_EveryLineExactlyOnce()
    {
        await using var first = await SidecarProcess.StartAsync(_dataDir);
        var (sessionId, workerId, workerPid) = await StartCountingShellAsync(first.Client);
        var attach = await AttachAsync(first.Client, sessionId, 0);
        var before = await first.Client.WaitForEventsAsync(attach, e => Lines(ShellSessionTests.Output(e, workerId)).Count >= 30, Wait);
        var lastSeen = before.Max(Seq);

        first.Leave();

        // The reloaded window: a new sidecar over stdio in the workspace, which hands its editor over.
        await using var second = await SidecarProcess.StartAsync(_dataDir, workingDirectory: _workspace);
        Assert.Equal(first.Pid, second.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("pid").GetInt32());
        Assert.False(first.HasExited, "the sidecar ended with its editor");
        var session = await second.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId });
        Assert.Equal("active", session.GetProperty("status").GetString());
        Assert.Equal(workerPid, session.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("id").GetString() == workerId).GetProperty("pid").GetInt32());

        // From the last event the first editor saw: the rest, no gap, no duplicate.
        var seenBefore = Lines(ShellSessionTests.Output(before, workerId)).Max();
        var attach2 = await AttachAsync(second.Client, sessionId, lastSeen);
        var after = await second.Client.WaitForEventsAsync(attach2, e => Lines(ShellSessionTests.Output(e, workerId)).Any(n => n >= seenBefore + 50), Wait);
        var all = before.Where(e => Seq(e) <= lastSeen).Concat(after).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(Seq));
        var lines = Lines(ShellSessionTests.Output(all, workerId));
        Assert.Equal(Enumerable.Range(1, lines.Count), lines);

        // The editor that took over is the primary: its shutdown stops the sidecar and its sessions.
        await second.ShutdownAsync();
        await first.WaitForExitAsync(Wait);
        Assert.False(ShellSessionTests.IsAlive(workerPid));
    }

    [Fact(Timeout = 120000)]
    public async Task NoClientForTheGracePeriod_SuspendsTheSessions_AndTheSidecarEnds()
    {
        await using var first = await SidecarProcess.StartAsync(_dataDir, initializationOptions: new JsonObject { ["lingerSeconds"] = 1 });
        var (sessionId, _, workerPid) = await StartCountingShellAsync(first.Client);

        first.Leave();
        Assert.Equal(0, await first.WaitForExitAsync(Wait));
        Assert.False(ShellSessionTests.IsAlive(workerPid));
        Assert.Contains("lingers", first.Stderr, StringComparison.Ordinal);

        // Nothing to hand over to now: the next editor's sidecar serves it, the session resumable.
        await using var second = await SidecarProcess.StartAsync(_dataDir, workingDirectory: _workspace);
        Assert.Equal(second.Pid, second.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("pid").GetInt32());
        var session = await second.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId });
        Assert.Equal("suspended", session.GetProperty("status").GetString());
        Assert.Equal("active", (await second.Client.RequestAsync("session/resume", new JsonObject { ["sessionId"] = sessionId }, Wait)).GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task NothingLive_TheEditorLeaving_EndsTheSidecarAtOnce()
    {
        await using var first = await SidecarProcess.StartAsync(_dataDir);
        var (sessionId, _, _) = await StartCountingShellAsync(first.Client);
        await first.Client.RequestAsync("session/end", new JsonObject { ["sessionId"] = sessionId }, Wait);

        first.Leave();
        Assert.Equal(0, await first.WaitForExitAsync(Wait));
        Assert.DoesNotContain("lingers", first.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task TheLingeringSidecarKilled_IsRecoveredLikeAnyCrash()
    {
        await using var first = await SidecarProcess.StartAsync(_dataDir);
        var (sessionId, _, workerPid) = await StartCountingShellAsync(first.Client);
        first.Leave();
        await Waits.UntilAsync(() => Task.FromResult(first.Stderr.Contains("lingers", StringComparison.Ordinal)), Wait, "the sidecar to linger");
        first.Kill();
        await first.WaitForExitAsync(Wait);

        await using var second = await SidecarProcess.StartAsync(_dataDir, workingDirectory: _workspace);
        Assert.Equal(second.Pid, second.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("pid").GetInt32());
        var session = await second.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId });
        Assert.Equal("suspended", session.GetProperty("status").GetString());
        Assert.Equal("owner-lost", session.GetProperty("statusReason").GetString());
        Assert.False(ShellSessionTests.IsAlive(workerPid));
    }

    [Fact(Timeout = 120000)]
    public async Task ASecondWindowOnTheSameFolder_JoinsTheSidecarThatRunsItsSessions_UnlessStandalone()
    {
        await using var first = await SidecarProcess.StartAsync(_dataDir);
        var (sessionId, workerId, _) = await StartCountingShellAsync(first.Client);

        // A second window while the first is still there: an ordinary client of the same sidecar.
        await using var second = await SidecarProcess.StartAsync(_dataDir, workingDirectory: _workspace, initializationOptions: new JsonObject { ["lingerSeconds"] = 5 });
        var init = second.Client.InitializeResult!.Value;
        Assert.Equal(first.Pid, init.GetProperty("serverInfo").GetProperty("pid").GetInt32());
        Assert.Equal(["lingerSeconds"], init.GetProperty("ignoredOptions").EnumerateArray().Select(e => e.GetString()));
        await second.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = workerId, ["data"] = "x" });

        // --standalone serves the editor itself: the session belongs to the other sidecar.
        await using var third = await SidecarProcess.StartAsync(_dataDir, workingDirectory: _workspace, extraArgs: ["--standalone"]);
        Assert.Equal(third.Pid, third.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("pid").GetInt32());
        var foreign = await Assert.ThrowsAsync<RpcErrorException>(() => third.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = workerId, ["data"] = "x" }));
        Assert.Equal(1004, foreign.Code);

        // The first window leaves; the second is still connected, so nothing is suspended.
        first.Leave();
        await Waits.UntilAsync(() => Task.FromResult(first.Stderr.Contains("lingers", StringComparison.Ordinal)), Wait, "the sidecar to linger");
        Assert.Equal("active", (await second.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId })).GetProperty("status").GetString());
    }

    /// <summary>A shell session in the workspace with a worker that prints <c>line-1</c>, <c>line-2</c>, … every 10 ms.</summary>
    private async Task<(string SessionId, string WorkerId, int Pid)> StartCountingShellAsync(RpcClient c)
    {
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = _workspace, ["provider"] = "shell" }, Wait);
        var sessionId = s.GetProperty("id").GetString()!;
        var worker = await c.RequestAsync("worker/start", new JsonObject
        {
            ["sessionId"] = sessionId,
            ["command"] = "sh",
            ["args"] = new JsonArray("-c", "i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); echo line-$i; sleep 0.01; done"),
        });
        return (sessionId, worker.GetProperty("id").GetString()!, worker.GetProperty("pid").GetInt32());
    }

    private static async Task<string> AttachAsync(RpcClient c, string sessionId, long afterSeq) =>
        (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sessionId, ["afterSeq"] = afterSeq })).GetProperty("attachId").GetString()!;

    private static long Seq(JsonElement e) => e.GetProperty("seq").GetInt64();

    /// <summary>The numbers of the complete <c>line-N</c> lines in the output, in order.</summary>
    private static List<int> Lines(string output) =>
        LinePattern().Matches(output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    [GeneratedRegex(@"line-(\d+)\r\n")]
    private static partial Regex LinePattern();
}
