using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>The CLI (the same executable) run as a process, against sidecars run as processes.</summary>
public sealed class CliTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-cli-").FullName;

    public CliTests()
    {
        Workspace = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(Workspace);
    }

    private string Workspace { get; }

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

    private sealed record CliResult(int Code, string Stdout, string Stderr);

    private async Task<CliResult> CliAsync(string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(SidecarProcess.Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.ArgumentList.Add("--data-dir");
        psi.ArgumentList.Add(DataDir);
        psi.ArgumentList.Add("--config-dir");
        psi.ArgumentList.Add(Path.Combine(_dir, "config"));
        psi.Environment["HOME"] = Path.Combine(_dir, "home");
        psi.Environment.Remove("NO_COLOR"); // piped output must be plain text without it
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        foreach (var part in stdin.Split('\u0001'))
        {
            // \u0001 in the script: pause, so the previous line is handled before the next one.
            await p.StandardInput.WriteAsync(part);
            await p.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
            await Task.Delay(part.Length == 0 ? 0 : 300, TestContext.Current.CancellationToken);
        }

        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"agent-sidecar {string.Join(' ', args)} did not exit: {await stderr}");
        }

        return new CliResult(p.ExitCode, await stdout, await stderr);
    }

    private async Task<(SidecarProcess Sidecar, string SessionId)> EditorWithSessionAsync(string provider, string? taskId = null)
    {
        var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: LifecycleTests.Options());
        var p = new JsonObject { ["workspace"] = Workspace, ["provider"] = provider };
        if (taskId is not null)
        {
            p["taskId"] = taskId;
        }

        var s = await sidecar.Client.RequestAsync("session/start", p, Wait);
        return (sidecar, s.GetProperty("id").GetString()!);
    }

    [Fact(Timeout = 120000)]
    public async Task Chat_ContinuesASessionThatAnotherSidecarOwns_ThroughItsSocket()
    {
        var (editor, sid) = await EditorWithSessionAsync("fake");
        await using var _ = editor;

        var run = await CliAsync("hello from the terminal\n\u0001/exit\n", "chat", "--resume", sid);
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Contains("ECHO[1]:hello from the terminal", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"pid {editor.Pid}", run.Stderr, StringComparison.Ordinal);

        // The editor's sidecar ran the turn: its history has it, and the session is still live there.
        var history = await editor.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = sid });
        Assert.Equal(["user:hello from the terminal", "assistant:ECHO[1]:hello from the terminal"], history.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList());
        Assert.Equal("active", (await editor.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());

        // And the other way round: a turn sent by the editor shows in a later CLI chat's context.
        await editor.Client.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "from the editor" }, Wait);
        var again = await CliAsync("third\n\u0001", "chat", "--resume", sid);
        Assert.Contains("ECHO[3]:third", again.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task Sessions_ListShowSuspendResumeEnd_AndErrorsHaveExitCodes()
    {
        var (editor, sid) = await EditorWithSessionAsync("shell", taskId: "T-42");
        await using var _ = editor;

        var list = await CliAsync(string.Empty, "sessions", "list", "--task", "T-42", "--json");
        Assert.True(list.Code == 0, list.Stderr);
        var sessions = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("sessions");
        Assert.Equal(sid, sessions.EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Empty(JsonDocument.Parse((await CliAsync(string.Empty, "sessions", "list", "--task", "other", "--json")).Stdout).RootElement.GetProperty("sessions").EnumerateArray());

        var table = await CliAsync(string.Empty, "sessions", "list", "--workspace", Workspace);
        Assert.Contains(sid, table.Stdout, StringComparison.Ordinal);
        Assert.Contains("T-42", table.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', table.Stdout);
        var empty = await CliAsync(string.Empty, "sessions", "list", "--task", "nobody");
        Assert.Contains("No sessions", empty.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', empty.Stdout);

        var suspend = await CliAsync(string.Empty, "sessions", "suspend", sid);
        Assert.True(suspend.Code == 0, suspend.Stderr);
        Assert.Contains("suspended", suspend.Stdout, StringComparison.Ordinal);
        Assert.Equal("suspended", (await editor.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());
        Assert.Equal(4, (await CliAsync(string.Empty, "sessions", "suspend", sid)).Code);

        var resume = await CliAsync(string.Empty, "sessions", "resume", sid, "--json");
        Assert.True(resume.Code == 0, resume.Stderr);
        Assert.Equal("active", JsonDocument.Parse(resume.Stdout).RootElement.GetProperty("status").GetString());

        var show = await CliAsync(string.Empty, "sessions", "show", sid, "--events", "3", "--json");
        var shown = JsonDocument.Parse(show.Stdout).RootElement;
        Assert.Equal(sid, shown.GetProperty("session").GetProperty("id").GetString());
        Assert.Equal(3, shown.GetProperty("events").GetArrayLength());
        Assert.Contains("T-42", (await CliAsync(string.Empty, "sessions", "show", sid)).Stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await CliAsync(string.Empty, "sessions", "end", sid)).Code);
        Assert.Equal("completed", (await editor.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());

        var missing = await CliAsync(string.Empty, "sessions", "show", "no-such-session");
        Assert.Equal(3, missing.Code);
        var line = Assert.Single(missing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("sessions list", line, StringComparison.Ordinal);
        Assert.Equal(2, (await CliAsync(string.Empty, "sessions", "frobnicate")).Code);

        var cleanup = await CliAsync(string.Empty, "sessions", "cleanup", "--idle", "100000", "--purge-days", "0", "--json");
        Assert.True(cleanup.Code == 0, cleanup.Stderr);
        Assert.Equal(sid, JsonDocument.Parse(cleanup.Stdout).RootElement.GetProperty("purged").EnumerateArray().Single().GetString());
    }

    [Fact(Timeout = 120000)]
    public async Task Chat_WithNoSidecarRunning_StartsOne_AndTheSessionIsResumableAfterwards()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "config"));
        var fake = LifecycleTests.Options()["providers"]!["fake"]!.DeepClone();
        File.WriteAllText(Path.Combine(_dir, "config", "providers.json"), new JsonObject { ["fake"] = fake }.ToJsonString());

        var first = await CliAsync("remember me\n\u0001", "chat", "--provider", "fake", "--workspace", Workspace, "--task", "T-9");
        Assert.True(first.Code == 0, first.Stderr);
        Assert.Contains("ECHO[1]:remember me", first.Stdout, StringComparison.Ordinal);
        var hint = System.Text.RegularExpressions.Regex.Match(first.Stderr, @"chat --resume (\w+)");
        Assert.True(hint.Success, first.Stderr);
        var sid = hint.Groups[1].Value;

        var list = JsonDocument.Parse((await CliAsync(string.Empty, "sessions", "list", "--json")).Stdout).RootElement.GetProperty("sessions");
        var s = list.EnumerateArray().Single(x => x.GetProperty("id").GetString() == sid);
        Assert.Equal("suspended", s.GetProperty("status").GetString());
        Assert.Equal("T-9", s.GetProperty("taskId").GetString());

        var second = await CliAsync("again\n\u0001", "chat", "--resume", sid);
        Assert.True(second.Code == 0, second.Stderr);
        Assert.Contains("ECHO[1]:again", second.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task Attach_PassesKeysAndOutputThrough_AndCtrlBracketDetaches_LeavingTheWorkerRunning()
    {
        var (editor, sid) = await EditorWithSessionAsync("shell");
        await using var _ = editor;
        var psi = new ProcessStartInfo(SidecarProcess.Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "attach", sid, "--data-dir", DataDir })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = new StringBuilder();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pump = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await p.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, n);
                    if (output.ToString().Contains("attached-42", StringComparison.Ordinal))
                    {
                        seen.TrySetResult();
                    }
                }
            }
        }, TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);

        // Keys go in, the shell's output comes out; only then Ctrl+] detaches.
        await p.StandardInput.WriteAsync("echo attached-$((40+2))\r");
        await p.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
        await seen.Task.WaitAsync(Wait, TestContext.Current.CancellationToken);
        await p.StandardInput.WriteAsync("\u001d");
        await p.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
        await p.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(Wait, TestContext.Current.CancellationToken);
        await pump;
        var run = new CliResult(p.ExitCode, output.ToString(), await stderr);
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Contains("detached", run.Stderr, StringComparison.Ordinal);
        var session = await editor.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("running", session.GetProperty("workers")[0].GetProperty("status").GetString());

        await editor.Client.RequestAsync("session/suspend", new JsonObject { ["sessionId"] = sid }, Wait);
        var suspended = await CliAsync(string.Empty, "attach", sid);
        Assert.Equal(4, suspended.Code);
        Assert.Contains("resume", suspended.Stderr, StringComparison.Ordinal);
    }
}
