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

    internal sealed record CliResult(int Code, string Stdout, string Stderr);

    /// <summary>The CLI as a process: text typed into its stdin, its stdout read as it comes.</summary>
    internal sealed class CliRun : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly Task _pump;
        private readonly Task<string> _stderr;
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CliRun(ProcessStartInfo psi)
        {
            _process = Process.Start(psi)!;
            _stderr = _process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            _pump = Task.Run(async () =>
            {
                var buffer = new char[4096];
                int n;
                while ((n = await _process.StandardOutput.ReadAsync(buffer)) > 0)
                {
                    lock (_stdout)
                    {
                        _stdout.Append(buffer, 0, n);
                        _changed.TrySetResult();
                        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }
                }

                lock (_stdout)
                {
                    _changed.TrySetResult();
                }
            });
        }

        public string Stdout
        {
            get
            {
                lock (_stdout)
                {
                    return _stdout.ToString();
                }
            }
        }

        public async Task WriteAsync(string text)
        {
            await _process.StandardInput.WriteAsync(text);
            await _process.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
        }

        /// <summary>Types a line and waits until stdout has <paramref name="expected"/> (the line was handled).</summary>
        public async Task SayAsync(string line, string expected)
        {
            await WriteAsync(line + "\n");
            await WaitForOutputAsync(expected);
        }

        /// <summary>Waits until stdout matches <paramref name="pattern"/>; the match.</summary>
        public async Task<System.Text.RegularExpressions.Match> WaitForOutputAsync(string pattern, bool regex = false)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(Wait);
            var re = new System.Text.RegularExpressions.Regex(regex ? pattern : System.Text.RegularExpressions.Regex.Escape(pattern));
            while (true)
            {
                Task changed;
                lock (_stdout)
                {
                    if (re.Match(_stdout.ToString()) is { Success: true } match)
                    {
                        return match;
                    }

                    changed = _changed.Task;
                }

                if (_pump.IsCompleted)
                {
                    throw new Xunit.Sdk.XunitException($"the CLI ended without printing '{pattern}'; stdout: {Stdout}; stderr: {await _stderr}");
                }

                try
                {
                    await changed.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new Xunit.Sdk.XunitException($"the CLI did not print '{pattern}' within {Wait}; stdout: {Stdout}");
                }
            }
        }

        /// <summary>Closes stdin (end of input) and waits for the CLI to exit.</summary>
        public async Task<CliResult> FinishAsync()
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException($"the CLI did not exit: {await _stderr}");
            }

            await _pump;
            return new CliResult(_process.ExitCode, Stdout, await _stderr);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }

            _process.Dispose();
        }
    }

    private CliRun StartCli(params string[] args) => StartCliIn(_dir, DataDir, args);

    /// <summary>The CLI with its data directory, config directory <c>DIR/config</c> and home <c>DIR/home</c>.</summary>
    internal static CliRun StartCliIn(string dir, string dataDir, params string[] args)
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
        psi.ArgumentList.Add(dataDir);
        psi.ArgumentList.Add("--config-dir");
        psi.ArgumentList.Add(Path.Combine(dir, "config"));
        psi.Environment["HOME"] = Path.Combine(dir, "home");
        psi.Environment.Remove("NO_COLOR"); // piped output must be plain text without it
        return new CliRun(psi);
    }

    /// <summary>Runs the CLI with all of <paramref name="stdin"/> as its input (for commands that take none, or chats whose order does not depend on answers).</summary>
    private async Task<CliResult> CliAsync(string stdin, params string[] args)
    {
        await using var run = StartCli(args);
        await run.WriteAsync(stdin);
        return await run.FinishAsync();
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

        await using var chat = StartCli("chat", "--resume", sid);
        await chat.SayAsync("hello from the terminal", "ECHO[1]:hello from the terminal");
        await chat.WriteAsync("/exit\n");
        var run = await chat.FinishAsync();
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Contains("ECHO[1]:hello from the terminal", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"pid {editor.Pid}", run.Stderr, StringComparison.Ordinal);

        // The editor's sidecar ran the turn: its history has it, and the session is still live there.
        var history = await editor.Client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = sid });
        Assert.Equal(["user:hello from the terminal", "assistant:ECHO[1]:hello from the terminal"], history.GetProperty("messages").EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList());
        Assert.Equal("active", (await editor.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid })).GetProperty("status").GetString());

        // And the other way round: a turn sent by the editor shows in a later CLI chat's context.
        await editor.Client.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "from the editor" }, Wait);
        var again = await CliAsync("third\n", "chat", "--resume", sid);
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

        var first = await CliAsync("remember me\n", "chat", "--provider", "fake", "--workspace", Workspace, "--task", "T-9");
        Assert.True(first.Code == 0, first.Stderr);
        Assert.Contains("ECHO[1]:remember me", first.Stdout, StringComparison.Ordinal);
        var hint = System.Text.RegularExpressions.Regex.Match(first.Stderr, @"chat --resume (\w+)");
        Assert.True(hint.Success, first.Stderr);
        var sid = hint.Groups[1].Value;

        var list = JsonDocument.Parse((await CliAsync(string.Empty, "sessions", "list", "--json")).Stdout).RootElement.GetProperty("sessions");
        var s = list.EnumerateArray().Single(x => x.GetProperty("id").GetString() == sid);
        Assert.Equal("suspended", s.GetProperty("status").GetString());
        Assert.Equal("T-9", s.GetProperty("taskId").GetString());

        var second = await CliAsync("again\n", "chat", "--resume", sid);
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

    /// <summary>
    /// The fake agent with <c>/new</c> as its clear command, as Auggie's: the provider <c>fake-new</c>.
    /// A CLI that cleared on "/clear" itself would not clear this agent.
    /// </summary>
    private async Task<(SidecarProcess Sidecar, string SessionId)> EditorWithNewAsClearAsync()
    {
        var wrapper = Path.Combine(_dir, "fake-agent-new.sh");
        File.WriteAllText(wrapper, $$"""
            # /new reaches the fake agent as the /clear it understands.
            while IFS= read -r line; do
              [ "$line" = /new ] && line=/clear
              printf '%s\n' "$line"
              [ "$line" = /quit ] && break
            done | bash --norc '{{Path.Combine(SidecarProcess.RepoRoot, "tests", "testdata", "agents", "fake-agent.sh")}}'
            """);
        var profile = ChatTests.FakeProfile();
        profile["args"] = new JsonArray("--norc", wrapper);
        profile["clear"] = new JsonObject { ["command"] = "/new", ["enters"] = 1 };
        profile["quit"] = "/quit";
        var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["providers"] = new JsonObject { ["fake-new"] = profile } });
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = Workspace, ["provider"] = "fake-new" }, Wait);
        return (sidecar, s.GetProperty("id").GetString()!);
    }

    private static async Task<List<string>> HistoryAsync(RpcClient client, string sessionId) =>
        (await client.RequestAsync("chat/history", new JsonObject { ["sessionId"] = sessionId })).GetProperty("messages").EnumerateArray()
            .Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("text").GetString()}").ToList();

    [Fact(Timeout = 120000)]
    public async Task Chat_TheAgentsOwnClearCommand_GoesThroughChatSend_AndTheNextMessageLandsInTheNewSession()
    {
        var (editor, sid) = await EditorWithNewAsClearAsync();
        await using var _ = editor;

        await using var chat = StartCli("chat", "--resume", sid);
        await chat.SayAsync("one", "ECHO[1]:one");
        await chat.WriteAsync("/new\n");
        var newId = (await chat.WaitForOutputAsync(@"──── conversation cleared: new session (\w+) ────\n", regex: true)).Groups[1].Value;
        await chat.SayAsync("two", "ECHO[1]:two"); // [1]: the agent itself started over
        await chat.WriteAsync("/exit\n");
        var run = await chat.FinishAsync();
        Assert.True(run.Code == 0, run.Stderr);
        Assert.DoesNotContain("[turn", run.Stderr, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(run.Stdout, "conversation cleared: new session"));

        // The sidecar made the transition, and each conversation is in its own session.
        var old = await editor.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("completed", old.GetProperty("status").GetString());
        Assert.Equal("clear", old.GetProperty("statusReason").GetString());
        Assert.Equal(newId, old.GetProperty("transitionedTo").GetString());
        Assert.Equal(["user:one", "assistant:ECHO[1]:one"], await HistoryAsync(editor.Client, sid));
        Assert.Equal(["user:two", "assistant:ECHO[1]:two"], await HistoryAsync(editor.Client, newId));
    }

    [Fact(Timeout = 120000)]
    public async Task Chat_FollowsAClearMadeElsewhere_SoTheNextMessageLandsInTheNewSession()
    {
        var (editor, sid) = await EditorWithSessionAsync("fake");
        await using var _ = editor;

        var attach = (await editor.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;

        await using var chat = StartCli("chat", "--resume", sid);
        await chat.SayAsync("one", "ECHO[1]:one");
        // The answer streams in before the turn ends; a clear now would interrupt it. Clear once it is over.
        await editor.Client.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "turn"), Wait);
        var cleared = await editor.Client.RequestAsync("session/clear", new JsonObject { ["sessionId"] = sid }, Wait);
        var newId = cleared.GetProperty("current").GetProperty("id").GetString()!;
        await chat.WaitForOutputAsync($"──── conversation cleared: new session {newId} ────\n");
        await chat.SayAsync("two", "ECHO[1]:two");
        var run = await chat.FinishAsync();
        Assert.True(run.Code == 0, run.Stderr);
        Assert.Equal(["user:two", "assistant:ECHO[1]:two"], await HistoryAsync(editor.Client, newId));
    }

    [Fact(Timeout = 120000)]
    public async Task SessionsShowEvents_ShowsEachEventsDataAsTheSidecarSentIt()
    {
        var (editor, sid) = await EditorWithSessionAsync("fake");
        await using var _ = editor;
        await editor.Client.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = "héllo" }, Wait);

        // The terminal's output is stored as text ("é"), the chat events escaped ("\u00E9"): both as they are.
        var shown = await CliAsync(string.Empty, "sessions", "show", sid, "--events", "50");
        Assert.True(shown.Code == 0, shown.Stderr);
        Assert.Contains("héllo", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains("h\\u00E9llo", shown.Stdout, StringComparison.Ordinal);

        var json = JsonDocument.Parse((await CliAsync(string.Empty, "sessions", "show", sid, "--events", "50", "--json")).Stdout).RootElement;
        var user = json.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("channel").GetString() == "chat" && e.GetProperty("type").GetString() == "user");
        Assert.Equal("héllo", user.GetProperty("data").GetProperty("text").GetString());
    }
}
