using System.Text;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>Bad input and the lifecycle, against the built process.</summary>
public sealed class ProtocolTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-proto-").FullName;
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

    private static async Task<int> ErrorCodeAsync(RpcClient c, string method, JsonNode? p)
    {
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync(method, p));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        return ex.Code;
    }

    [Fact(Timeout = 60000)]
    public async Task ApplicationErrors_HaveTheDocumentedCodes()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        var ws = Directory.CreateTempSubdirectory("ws-").FullName;
        Assert.Equal(1001, await ErrorCodeAsync(c, "session/get", new JsonObject { ["sessionId"] = "nope" }));
        Assert.Equal(1001, await ErrorCodeAsync(c, "session/attach", new JsonObject { ["sessionId"] = "nope" }));
        Assert.Equal(1002, await ErrorCodeAsync(c, "worker/input", new JsonObject { ["workerId"] = "nope", ["data"] = "x" }));
        Assert.Equal(1005, await ErrorCodeAsync(c, "session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "no-such-agent" }));
        Assert.Equal(1006, await ErrorCodeAsync(c, "session/start", new JsonObject { ["workspace"] = "relative/path", ["provider"] = "shell" }));
        Assert.Equal(1006, await ErrorCodeAsync(c, "session/start", new JsonObject { ["workspace"] = "/no/such/dir", ["provider"] = "shell" }));
        Assert.Equal(-32602, await ErrorCodeAsync(c, "session/start", new JsonObject { ["provider"] = "shell" }));
        Assert.Equal(-32601, await ErrorCodeAsync(c, "session/frobnicate", new JsonObject()));

        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "shell" });
        var wid = s.GetProperty("workers")[0].GetProperty("id").GetString()!;
        var huge = new string('a', (1 << 20) + 1);
        Assert.Equal(1007, await ErrorCodeAsync(c, "worker/input", new JsonObject { ["workerId"] = wid, ["data"] = huge }));
        Assert.Equal(1004, await ErrorCodeAsync(c, "session/delete", new JsonObject { ["sessionId"] = s.GetProperty("id").GetString() }));
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("worker/resize", new JsonObject { ["workerId"] = wid, ["cols"] = -1, ["rows"] = 10 }));
        Assert.Equal("cols", ex.ErrorData!.Value.GetProperty("field").GetString());

        // After all that, the session works.
        Assert.Equal("active", (await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = s.GetProperty("id").GetString() })).GetProperty("status").GetString());
    }

    [Fact(Timeout = 60000)]
    public async Task NotJson_Gets32700_AndTheConnectionGoesOn()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var c = sidecar.Client;
        await c.SendRawAsync(Encoding.UTF8.GetBytes("this is { not json"));
        var err = await c.WaitForNullIdErrorAsync(Wait);
        Assert.Equal(-32700, err.GetProperty("error").GetProperty("code").GetInt32());
        var providers = await c.RequestAsync("provider/list", null);
        Assert.Contains(providers.GetProperty("providers").EnumerateArray(), p => p.GetProperty("id").GetString() == "shell" && p.GetProperty("available").GetBoolean());
    }

    [Fact(Timeout = 60000)]
    public async Task OversizedMessage_Gets1007_WithoutKillingTheSidecar()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, extraArgs: ["--max-message-bytes", "4096"]);
        var c = sidecar.Client;
        await c.SendRawAsync(Encoding.UTF8.GetBytes($$$"""{"jsonrpc":"2.0","id":"big","method":"provider/list","params":{"pad":"{{{new string('x', 100_000)}}}"}}"""));
        var err = await c.WaitForNullIdErrorAsync(Wait);
        Assert.Equal(1007, err.GetProperty("error").GetProperty("code").GetInt32());
        await c.RequestAsync("provider/list", null);
    }

    [Fact(Timeout = 60000)]
    public async Task BrokenHeader_EndsTheSidecarCleanly_LoggingWhy()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        await sidecar.Client.SendBytesAsync(Encoding.ASCII.GetBytes("Content-Length: banana\r\n\r\n{}"));
        var code = await sidecar.WaitForExitAsync(Wait);
        Assert.Equal(1, code);
        Assert.Contains("framing lost", sidecar.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task RequestBeforeInitialize_Gets32002()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initialize: false);
        Assert.Equal(-32002, await ErrorCodeAsync(sidecar.Client, "session/list", new JsonObject()));
    }

    [Fact(Timeout = 60000)]
    public async Task Exit_AfterShutdown_Exits0_WithoutShutdown_Exits1_EndOfInput_Exits0()
    {
        await using (var a = await SidecarProcess.StartAsync(Path.Combine(_dir, "a")))
        {
            await a.Client.RequestAsync("shutdown", null);
            await a.Client.NotifyAsync("exit", null);
            Assert.Equal(0, await a.WaitForExitAsync(Wait));
        }

        await using (var b = await SidecarProcess.StartAsync(Path.Combine(_dir, "b")))
        {
            await b.Client.NotifyAsync("exit", null);
            Assert.Equal(1, await b.WaitForExitAsync(Wait));
        }

        // With lingerSeconds 0 the end of stdin ends the sidecar and its sessions (the default
        // lingers while sessions are live: LingerTests).
        await using var eof = await SidecarProcess.StartAsync(Path.Combine(_dir, "c"), initializationOptions: new JsonObject { ["lingerSeconds"] = 0 });
        var ws = Directory.CreateTempSubdirectory("ws-").FullName;
        var s = await eof.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "shell" });
        var pid = s.GetProperty("workers")[0].GetProperty("pid").GetInt32();
        eof.Client.Dispose(); // closes the sidecar's stdin
        Assert.Equal(0, await eof.WaitForExitAsync(Wait));
        Assert.False(ShellSessionTests.IsAlive(pid));
    }

    [Fact(Timeout = 60000)]
    public async Task ADatabaseThatCannotBeOpened_ExitsWith2_SayingWhy()
    {
        // The database opens in the background while the RPC layer starts: its failure still
        // ends the sidecar with "cannot start" and exit code 2, as a failure before serving did.
        Directory.CreateDirectory(Path.Combine(DataDir, "sidecar.db"));
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initialize: false);
        Assert.Equal(2, await sidecar.WaitForExitAsync(Wait));
        Assert.Contains("agent-sidecar: cannot start:", sidecar.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task DataDirectory_Is0700_DatabaseAndSocket_Are0600()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(Owner | UnixFileMode.UserExecute, File.GetUnixFileMode(DataDir));
        Assert.Equal(Owner, File.GetUnixFileMode(Path.Combine(DataDir, "sidecar.db")));
        var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        Assert.Equal(Owner, File.GetUnixFileMode(socket));
        Assert.Equal(Owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(socket)!));
    }
}
