using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// <c>agent-sidecar chat</c> with approvals and tool calls: against the built sidecar with the fake
/// agent's Codex-like prompt (<c>ask CMD</c>), and against a sidecar played by the test that sends
/// the protocol's example events (the fake agent has no transcript, so it makes no tool calls).
/// Stdout is a pipe here: the plain output of docs/cli.md.
/// </summary>
public sealed class CliApprovalTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-cli-approval-").FullName;

    public CliApprovalTests()
    {
        Workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
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

    private CliTests.CliRun StartCli(params string[] args) => CliTests.StartCliIn(_dir, DataDir, args);

    /// <summary>A sidecar (the editor's) with the fake agent whose prompts its profile recognises; the session and the agent's worker.</summary>
    private async Task<(SidecarProcess Sidecar, string SessionId, string AgentId)> EditorAsync()
    {
        var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["providers"] = new JsonObject { ["fake"] = ApprovalTests.Profile() } });
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = Workspace, ["provider"] = "fake" }, Wait);
        return (sidecar, s.GetProperty("id").GetString()!, s.GetProperty("workers")[0].GetProperty("id").GetString()!);
    }

    [Fact(Timeout = 120000)]
    public async Task ApproveAlways_AllowsWithTheAllowOnceOption_SaysSo_AndTheCommandRuns()
    {
        var (editor, sid, _) = await EditorAsync();
        await using var _ = editor;
        var marker = Path.Combine(_dir, "always.txt");

        await using var chat = StartCli("chat", "--resume", sid, "--approve", "always");
        await chat.SayAsync($"ask touch {marker}", $"done: touch {marker}");
        var run = await chat.FinishAsync();

        Assert.True(run.Code == 0, run.Stderr);
        AssertHas(run.Stdout, $"? Run a command?\n  touch {marker}\n-> allowed: Yes, proceed (--approve always)\n");
        Assert.True(File.Exists(marker));
        Assert.Contains("Approvals: always", run.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task InputNotATerminal_RejectsByDefault_SaysSo_AndTheCommandDoesNotRun()
    {
        var (editor, sid, _) = await EditorAsync();
        await using var _ = editor;
        var marker = Path.Combine(_dir, "never.txt");

        await using var chat = StartCli("chat", "--resume", sid);
        await chat.SayAsync($"ask touch {marker}", $"Rejected: touch {marker}");
        await chat.SayAsync("after", "ECHO[2]:after");
        var run = await chat.FinishAsync();

        Assert.True(run.Code == 0, run.Stderr);
        AssertHas(run.Stdout, $"? Run a command?\n  touch {marker}\n-> rejected: No, and tell me what to do differently (--approve never)\n");
        Assert.False(File.Exists(marker));
        Assert.Contains("Approvals: never", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Choose", run.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task ApproveAsk_ShowsTheNumberedOptions_AndAnswersWithTheTypedChoice_EnterBeingTheFirst()
    {
        var (editor, sid, _) = await EditorAsync();
        await using var _ = editor;
        var rejected = Path.Combine(_dir, "asked-no.txt");
        var allowed = Path.Combine(_dir, "asked-yes.txt");
        const string Prompt = "Choose 1-2 (Enter: 1): ";

        await using var chat = StartCli("chat", "--resume", sid, "--approve", "ask");
        await chat.SayAsync($"ask touch {rejected}", Prompt);
        AssertHas(chat.Stdout, $"? Run a command?\n  touch {rejected}\n  1. Yes, proceed\n  2. No, and tell me what to do differently\n{Prompt}");
        await chat.SayAsync("7", "Type a number from 1 to 2, or Enter for 1.\n" + Prompt);
        await chat.SayAsync("2", $"Rejected: touch {rejected}");

        await chat.SayAsync($"ask touch {allowed}", $"  touch {allowed}\n  1. Yes, proceed\n  2. No, and tell me what to do differently\n{Prompt}");
        await chat.SayAsync(string.Empty, $"done: touch {allowed}");
        var run = await chat.FinishAsync();

        Assert.True(run.Code == 0, run.Stderr);
        AssertHas(run.Stdout, $"{Prompt}\n-> rejected: No, and tell me what to do differently\n");
        AssertHas(run.Stdout, $"{Prompt}\n-> allowed: Yes, proceed\n");
        Assert.False(File.Exists(rejected));
        Assert.True(File.Exists(allowed));
    }

    [Fact(Timeout = 120000)]
    public async Task ApproveAsk_WithTheInputAtItsEnd_Rejects_SoAScriptDoesNotHang()
    {
        var (editor, sid, _) = await EditorAsync();
        await using var _ = editor;
        var marker = Path.Combine(_dir, "no-input.txt");

        await using var chat = StartCli("chat", "--resume", sid, "--approve", "ask");
        await chat.WriteAsync($"ask touch {marker}\n");
        var run = await chat.FinishAsync();

        Assert.True(run.Code == 0, run.Stderr);
        AssertHas(run.Stdout, "-> rejected: No, and tell me what to do differently (no input left: as --approve never)\n");
        Assert.False(File.Exists(marker));
    }

    [Fact(Timeout = 120000)]
    public async Task ApproveAsk_AnsweredInTheEditorMeanwhile_StopsAsking_SaysHow_AndTheNextLineIsAMessageAgain()
    {
        var (editor, sid, _) = await EditorAsync();
        await using var _ = editor;
        var marker = Path.Combine(_dir, "elsewhere.txt");
        var attach = (await editor.Client.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("chat") })).GetProperty("attachId").GetString()!;

        await using var chat = StartCli("chat", "--resume", sid, "--approve", "ask");
        await chat.SayAsync($"ask touch {marker}", "Choose 1-2 (Enter: 1): ");
        var pending = (await editor.Client.WaitForEventsAsync(attach, e => e.Any(x => x.GetProperty("type").GetString() == "approval"), Wait)).First(x => x.GetProperty("type").GetString() == "approval");
        await editor.Client.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = pending.GetProperty("data").GetProperty("approvalId").GetString(), ["optionId"] = "yes" }, Wait);
        await chat.WaitForOutputAsync("Choose 1-2 (Enter: 1): \n-> allowed from another client: Yes, proceed\n");
        await chat.WaitForOutputAsync($"done: touch {marker}");
        await chat.SayAsync("hello", "ECHO[2]:hello");
        var run = await chat.FinishAsync();

        Assert.True(run.Code == 0, run.Stderr);
        Assert.True(File.Exists(marker));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(run.Stdout, "allowed"));
    }

    [Fact(Timeout = 120000)]
    public async Task ToolCallsPlansAndDiffs_PrintBetweenTheText_EachStateOnce_PlainWhenPiped()
    {
        using var sidecar = ScriptedSidecar.Listen(DataDir);
        await using var chat = StartCli("chat", "--provider", "fake", "--workspace", Workspace, "--approve", "always");
        await sidecar.AcceptAsync();
        await sidecar.AnswerAsync("initialize", new JsonObject { ["serverInfo"] = new JsonObject { ["name"] = "scripted", ["version"] = "0" }, ["capabilities"] = new JsonObject() });
        await sidecar.AnswerAsync("session/start", new JsonObject
        {
            ["id"] = "s-scripted", ["workspace"] = Workspace, ["provider"] = "fake", ["kind"] = "agent", ["status"] = "active",
            ["createdAt"] = "2026-11-21T13:00:00Z", ["updatedAt"] = "2026-11-21T13:00:00Z", ["lastSeq"] = 0,
        });
        await sidecar.AnswerAsync("session/attach", new JsonObject { ["attachId"] = ScriptedSidecar.AttachId, ["lastSeq"] = 0 });

        await chat.WriteAsync("fix greet\n");
        var send = await sidecar.RequestAsync("chat/send");
        Assert.Equal("fix greet", send.GetProperty("params").GetProperty("text").GetString());
        await sidecar.EventAsync(Example("chat.delta")); // "This repository is a .NET " (no line break)
        await sidecar.EventAsync(Example("chat.plan"));
        await sidecar.EventAsync(Example("chat.tool.pending"));
        var approval = Example("chat.approval");
        await sidecar.EventAsync(approval);

        // --approve always: the first allow_once option; its outcome is printed once (event and result).
        var approve = await sidecar.RequestAsync("chat/approve");
        Assert.Equal("s-scripted", approve.GetProperty("params").GetProperty("sessionId").GetString());
        Assert.Equal("a01a1fe5a8d0e7c41b2a6f0d9c3e8b7a1", approve.GetProperty("params").GetProperty("approvalId").GetString());
        Assert.Equal("yes", approve.GetProperty("params").GetProperty("optionId").GetString());
        var resolved = approval["data"]!.DeepClone().AsObject();
        resolved["status"] = "allowed";
        resolved["resolvedBy"] = "chat";
        resolved["optionId"] = "yes";
        var resolvedEvent = approval.DeepClone();
        resolvedEvent["data"] = resolved.DeepClone();
        await sidecar.EventAsync(resolvedEvent);
        await sidecar.AnswerAsync(approve, new JsonObject { ["approval"] = resolved });

        // Each state once: the same event again, or the plan unchanged, prints nothing.
        await sidecar.EventAsync(Example("chat.tool.pending"));
        await sidecar.EventAsync(Example("chat.tool"));
        await sidecar.EventAsync(Example("chat.tool"));
        await sidecar.EventAsync(Example("chat.tool.edit"));
        await sidecar.EventAsync(Example("chat.tool.truncated"));
        await sidecar.EventAsync(Example("chat.plan"));
        var done = Example("chat.plan");
        foreach (var entry in done["data"]!["entries"]!.AsArray())
        {
            entry!["status"] = "completed";
        }

        await sidecar.EventAsync(done);

        // A long diff is cut at 40 lines, printed once however often the edit is re-sent.
        var big = Example("chat.tool.edit");
        big["data"]!["toolCallId"] = "toolu_big";
        big["data"]!["title"] = "Edit big.txt";
        big["data"]!["status"] = "in_progress";
        big["data"]!["files"]![0]!["diff"] = "--- a/big.txt\n+++ b/big.txt\n@@ -0,0 +1,50 @@\n" + string.Concat(Enumerable.Range(1, 50).Select(i => $"+line {i}\n"));
        await sidecar.EventAsync(big);
        var bigDone = big.DeepClone();
        bigDone["data"]!["status"] = "completed";
        await sidecar.EventAsync(bigDone);

        var last = Example("chat.delta");
        last["data"]!["text"] = "Fixed.\n";
        await sidecar.EventAsync(last);
        await sidecar.AnswerAsync(send, new JsonObject { ["turnId"] = "t1", ["status"] = "completed", ["text"] = "This repository is a .NET Fixed.\n" });
        await chat.WaitForOutputAsync("Fixed.\n");

        var finished = chat.FinishAsync();
        await sidecar.AnswerAsync("session/detach", new JsonObject());
        var run = await finished;
        Assert.True(run.Code == 0, run.Stderr);
        var expected = new StringBuilder()
            .Append("This repository is a .NET \n")
            .Append("[plan]\n  [x] Find where greet is defined\n  [>] Add the name parameter\n  [ ] Run the tests\n")
            .Append("[run] npm test\n")
            .Append("? Run npm test?\n  Would you like to run the following command?\n    $ npm test\n")
            .Append("-> allowed: Yes, proceed (--approve always)\n")
            .Append("  [ok] npm test: exit 0\n    > test\n    > node --test\n    # pass 12\n    # fail 0\n")
            .Append("[edit] Edit src/greet.js\n    --- a/src/greet.js\n    +++ b/src/greet.js\n    @@ -1 +1 @@\n")
            .Append("    -export const greet = () => 'hi';\n    +export const greet = (name) => `hi ${name}`;\n")
            .Append("[run] cat build.log\n  [failed] exit 2\n    ...\n    …error TS2304: Cannot find name 'greet'.\n")
            .Append("[plan]\n  [x] Find where greet is defined\n  [x] Add the name parameter\n  [x] Run the tests\n")
            .Append("[edit] Edit big.txt\n    --- a/big.txt\n    +++ b/big.txt\n    @@ -0,0 +1,50 @@\n")
            .Append(string.Concat(Enumerable.Range(1, 37).Select(i => $"    +line {i}\n")))
            .Append("    (... 13 more lines)\n")
            .Append("Fixed.\n")
            .ToString();
        Assert.Equal(expected, run.Stdout);
        Assert.DoesNotContain('\u001b', run.Stdout);
    }

    /// <summary>Like Assert.Contains, with the whole output in the message (the lines around are the point).</summary>
    private static void AssertHas(string output, string expected) =>
        Assert.True(output.Contains(expected, StringComparison.Ordinal), $"expected:\n{expected}\n--- in the output:\n{output}");

    /// <summary>An event of tests/testdata/protocol/events (the contract's examples).</summary>
    private static JsonNode Example(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(SidecarProcess.RepoRoot, "tests", "testdata", "protocol", "events", name + ".json")))!;

    /// <summary>
    /// A sidecar played by the test, on the socket where the CLI looks for a running one
    /// (<c>run/sidecar-PID.sock</c>, PID this test's process): it answers the CLI's requests as the
    /// test says and sends it the events the test gives.
    /// </summary>
    private sealed class ScriptedSidecar : IDisposable
    {
        public const string AttachId = "att-scripted";

        private readonly Socket _listener;
        private RpcClient? _client;

        private ScriptedSidecar(Socket listener) => _listener = listener;

        private RpcClient Client => _client ?? throw new InvalidOperationException("no CLI connected yet");

        public static ScriptedSidecar Listen(string dataDir)
        {
            var run = Directory.CreateDirectory(Path.Combine(dataDir, "run")).FullName;
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(run, $"sidecar-{Environment.ProcessId}.sock")));
            listener.Listen();
            return new ScriptedSidecar(listener);
        }

        public async Task AcceptAsync()
        {
            var socket = await _listener.AcceptAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Wait, TestContext.Current.CancellationToken);
            var stream = new NetworkStream(socket, ownsSocket: true);
            _client = new RpcClient(stream, stream);
        }

        /// <summary>The CLI's request of <paramref name="method"/> (the RpcClient keeps requests it did not send among its notifications).</summary>
        public Task<JsonElement> RequestAsync(string method) =>
            Client.WaitForNotificationAsync(m => m.TryGetProperty("id", out _) && m.TryGetProperty("method", out var x) && x.GetString() == method, Wait);

        public Task AnswerAsync(JsonElement request, JsonNode result) =>
            Client.SendRawAsync(Encoding.UTF8.GetBytes(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = request.GetProperty("id").GetInt64(), ["result"] = result }.ToJsonString()));

        public async Task AnswerAsync(string method, JsonNode result) => await AnswerAsync(await RequestAsync(method), result);

        public Task EventAsync(JsonNode e) =>
            Client.NotifyAsync("session/event", new JsonObject { ["attachId"] = AttachId, ["event"] = e.DeepClone() });

        public void Dispose()
        {
            _client?.Dispose();
            _listener.Dispose();
        }
    }
}
