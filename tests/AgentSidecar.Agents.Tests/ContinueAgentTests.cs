using System.Diagnostics;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// Continuing ended sessions (issue 17, part 2) with the real Codex CLI against the fake model
/// server: an agent killed with SIGKILL, one the user quit with <c>/quit</c>, one ended with
/// <c>session/end</c>. <c>session/resume</c> restarts Codex on the recorded conversation, and the
/// model's next request carries the earlier conversation.
/// </summary>
public sealed class ContinueAgentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Id(string sessionId) => new() { ["sessionId"] = sessionId };

    [Fact(Timeout = 240000)]
    public async Task Codex_AgentKilledWithSigkill_IsFailed_AndResumeContinuesItsConversation()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "cont-kill");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:remember the word fig", (await run.SendAsync(s.Id, "remember the word fig")).GetProperty("text").GetString());
        var agentSessionId = await AgentSessionIdAsync(run, s.Id);

        Process.GetProcessById(s.AgentPid).Kill(); // SIGKILL on Unix
        var failed = await Waits.StatusAsync(run.Client, s.Id, "failed");
        Assert.Contains("signal 9", failed.GetProperty("statusReason").GetString(), StringComparison.Ordinal);

        await ContinueAndCheckAsync(run, server, s, agentSessionId, "remember the word fig", "which word was it");
        await CheckMetricsPairedAsync(run, s.Id, "failed");
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_QuitByTheUserWithSlashQuit_IsCompleted_AndResumeContinuesItsConversation()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "cont-quit");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:remember the word pear", (await run.SendAsync(s.Id, "remember the word pear")).GetProperty("text").GetString());
        var agentSessionId = await AgentSessionIdAsync(run, s.Id);

        // The user types /quit into the agent's terminal (Enter only once it is drawn: see Waits.TypedAsync).
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "/quit" });
        await Waits.TypedAsync(run.Client, s.AgentWorkerId, "/quit");
        await run.Client.RequestAsync("worker/input", new JsonObject { ["workerId"] = s.AgentWorkerId, ["data"] = "\r" });
        var completed = await Waits.StatusAsync(run.Client, s.Id, "completed");
        Assert.Equal("exit", completed.GetProperty("statusReason").GetString());

        await ContinueAndCheckAsync(run, server, s, agentSessionId, "remember the word pear", "which fruit was it");
        await CheckMetricsPairedAsync(run, s.Id, "exit");
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_EndedByTheUser_CanBeContinued_ButNotOncePurged()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "cont-end");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:remember the word plum", (await run.SendAsync(s.Id, "remember the word plum")).GetProperty("text").GetString());
        var agentSessionId = await AgentSessionIdAsync(run, s.Id);
        Assert.Equal("completed", (await run.Client.RequestAsync("session/end", Id(s.Id), Wait)).GetProperty("status").GetString());

        await ContinueAndCheckAsync(run, server, s, agentSessionId, "remember the word plum", "and the word");
        await CheckMetricsPairedAsync(run, s.Id, "exit");

        // Purged (cleanup of ended sessions): nothing left to continue.
        var purged = await run.Client.RequestAsync("session/cleanup", new JsonObject { ["purgeOlderThanDays"] = 0 });
        Assert.Contains(s.Id, purged.GetProperty("purged").EnumerateArray().Select(e => e.GetString()));
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => run.Client.RequestAsync("session/resume", Id(s.Id), Wait));
        Assert.Equal(1001, ex.Code);
    }

    [Fact(Timeout = 240000)]
    public async Task Codex_CliChatResume_ContinuesASessionWhoseAgentWasKilled()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "cont-cli");
        var s = await run.StartSessionAsync("codex");
        Assert.Equal("PONG:remember the word lime", (await run.SendAsync(s.Id, "remember the word lime")).GetProperty("text").GetString());
        Process.GetProcessById(s.AgentPid).Kill();
        await Waits.StatusAsync(run.Client, s.Id, "failed");

        // The CLI reaches the sidecar that ran the session (its socket) and continues it there.
        var psi = new ProcessStartInfo(SidecarProcess.Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "chat", "--resume", s.Id, "--data-dir", run.SidecarDir, "--config-dir", Path.Combine(run.Dir, "cli-config") })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = Path.Combine(run.Dir, "home");
        using var cli = Process.Start(psi)!;
        var stdout = cli.StandardOutput.ReadToEndAsync(Ct);
        var stderr = cli.StandardError.ReadToEndAsync(Ct);
        await cli.StandardInput.WriteLineAsync("which word was it");
        cli.StandardInput.Close();
        await cli.WaitForExitAsync(Ct);
        Assert.True(cli.ExitCode == 0, $"exit {cli.ExitCode}; stderr: {await stderr}");
        Assert.Contains("PONG:which word was it", await stdout, StringComparison.Ordinal);

        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(["user:remember the word lime", "assistant:PONG:remember the word lime", "user:which word was it"], turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());
        Assert.Equal("active", (await run.Client.RequestAsync("session/get", Id(s.Id))).GetProperty("status").GetString());
    }

    private static async Task<string> AgentSessionIdAsync(AgentRun run, string sessionId)
    {
        var id = (await run.Client.RequestAsync("session/get", Id(sessionId))).GetProperty("agentSessionId").GetString();
        Assert.False(string.IsNullOrEmpty(id));
        return id!;
    }

    /// <summary>
    /// session/resume on the ended session: active again as the same session (same agent worker id,
    /// a new process), the agent resumed on the recorded conversation, and the model's next request
    /// carries the earlier exchange.
    /// </summary>
    private static async Task ContinueAndCheckAsync(AgentRun run, FakeCodexServer server, JsonElementSession s, string agentSessionId, string earlier, string next)
    {
        var continued = await run.Client.RequestAsync("session/resume", Id(s.Id), Wait);
        Assert.Equal("active", continued.GetProperty("status").GetString());
        Assert.Equal("continued", continued.GetProperty("statusReason").GetString());
        Assert.False(continued.TryGetProperty("endedAt", out _));
        Assert.Equal(agentSessionId, continued.GetProperty("agentSessionId").GetString());
        var agent = continued.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("kind").GetString() == "agent");
        Assert.Equal(s.AgentWorkerId, agent.GetProperty("id").GetString());
        Assert.NotEqual(s.AgentPid, agent.GetProperty("pid").GetInt32());

        Assert.Equal("PONG:" + next, (await run.SendAsync(s.Id, next)).GetProperty("text").GetString());
        var turn = await server.WaitForTurnAsync(2, Wait, Ct);
        Assert.Equal(agentSessionId, turn.SessionId);
        Assert.Equal(
            [$"user:{earlier}", $"assistant:PONG:{earlier}", $"user:{next}"],
            turn.Conversation.Select(m => $"{m.Role}:{m.Text}").ToList());

        // The resumed transcript is read from where it stood: the earlier exchange is not recorded twice.
        var history = await run.Client.RequestAsync("chat/history", Id(s.Id));
        Assert.Equal(
            [$"user:{earlier}", $"assistant:PONG:{earlier}", $"user:{next}", $"assistant:PONG:{next}"],
            history.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList());
    }

    /// <summary>Every START has its END: start, end (how it ended), start (the continue), end (ended now).</summary>
    private static async Task CheckMetricsPairedAsync(AgentRun run, string sessionId, string firstEnd)
    {
        Assert.Equal("completed", (await run.Client.RequestAsync("session/end", Id(sessionId), Wait)).GetProperty("status").GetString());
        var events = (await run.Client.RequestAsync("session/events", new JsonObject { ["sessionId"] = sessionId, ["channels"] = new JsonArray("metrics"), ["limit"] = 1000 }))
            .GetProperty("events").EnumerateArray().Where(e => e.GetProperty("type").GetString() != "usage").ToList();
        Assert.Equal(["start", "end", "start", "end"], events.Select(e => e.GetProperty("type").GetString()).ToList());
        Assert.Equal([firstEnd, "exit"], events.Where(e => e.GetProperty("type").GetString() == "end").Select(e => e.GetProperty("data").GetProperty("reason").GetString()).ToList());
    }
}
