using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>Who can reach the sidecar, and what it writes down.</summary>
public sealed class SecurityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-sec-").FullName;
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

    [Fact(Timeout = 60000)]
    public async Task Socket_Is0600InA0700Directory_AndNoTcpSocketIsOpen()
    {
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(DataDir);
        var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
        using var second = await LeanClient.ConnectAsync(socket);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(socket)!));
        Assert.True((File.GetAttributes(socket) & FileAttributes.Directory) == 0);

        // Every socket the sidecar holds, against every TCP socket of the system (v4 and v6).
        var sockets = Procs.FdTargets(sidecar.Pid).Where(t => t.StartsWith("socket:[", StringComparison.Ordinal)).Select(t => t[8..^1]).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(sockets); // the unix listener and its connection at least
        var tcp = Procs.TcpInodes();
        Assert.Empty(sockets.Intersect(tcp));
    }

    [Fact(Timeout = 60000)]
    public async Task SecretEnv_ValuesNeverAppearInLogsEventsMessagesOrTheDatabase()
    {
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        var providers = new JsonObject
        {
            ["vault"] = new JsonObject
            {
                ["command"] = "bash",
                ["args"] = new JsonArray("--norc", "-c", "echo token-length-$(printf %s \"$API_TOKEN\" | wc -c); exec bash --norc"),
                ["env"] = new JsonObject { ["API_TOKEN"] = "${SIDECAR_TEST_SECRET}" },
                ["secretEnv"] = new JsonArray("API_TOKEN"),
            },
        };
        var seen = new StringBuilder();
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, extraArgs: ["--log-level", "Trace"], initializationOptions: new JsonObject { ["providers"] = providers }, environment: new Dictionary<string, string> { ["SIDECAR_TEST_SECRET"] = secret });
        var c = sidecar.Client;
        var s = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "vault" });
        seen.Append(s.GetRawText());
        var sid = s.GetProperty("id").GetString()!;
        var wid = s.GetProperty("workers")[0].GetProperty("id").GetString()!;
        var attach = (await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid })).GetProperty("attachId").GetString()!;

        // The agent got the secret (it prints its length, not the value).
        await c.WaitForEventsAsync(attach, e => OutputOf(e).Contains($"token-length-{secret.Length}", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        await c.RequestAsync("worker/input", new JsonObject { ["workerId"] = wid, ["data"] = "echo done-$((40+2))\r" });
        await c.WaitForEventsAsync(attach, e => OutputOf(e).Contains("done-42", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        seen.Append((await c.RequestAsync("worker/list", new JsonObject { ["sessionId"] = sid })).GetRawText());
        seen.Append((await c.RequestAsync("session/list", new JsonObject())).GetRawText());
        seen.Append((await c.RequestAsync("session/end", new JsonObject { ["sessionId"] = sid })).GetRawText());
        seen.Append((await c.RequestAsync("session/events", new JsonObject { ["sessionId"] = sid, ["limit"] = 10000 })).GetRawText());
        seen.Append((await c.RequestAsync("metrics/status", new JsonObject())).GetRawText());
        foreach (var n in c.Notifications)
        {
            seen.Append(n.GetRawText());
        }

        await sidecar.ShutdownAsync();
        Assert.DoesNotContain(secret, seen.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, sidecar.Stderr, StringComparison.Ordinal);

        // Nor anywhere in the data directory: the database, its WAL, the metrics outbox in it.
        var needle = Encoding.UTF8.GetBytes(secret);
        foreach (var file in Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories).Where(f => !f.StartsWith(workspace, StringComparison.Ordinal)))
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"the secret is in {file}");
        }
    }

    [Fact(Timeout = 60000)]
    public async Task SecretEnv_NeverOnTheAgentsCommandLine_RefusedNamingTheField()
    {
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var workspace = Directory.CreateDirectory(Path.Combine(_dir, "ws")).FullName;
        var providers = new JsonObject
        {
            // Named on the command line: the profile is refused, naming the field.
            ["named"] = new JsonObject
            {
                ["command"] = "bash",
                ["args"] = new JsonArray("--norc", "-c", "exec cat", "--token=${API_TOKEN}"),
                ["secretEnv"] = new JsonArray("API_TOKEN"),
            },

            // Reached through another variable: refused when the agent would start.
            ["indirect"] = new JsonObject
            {
                ["command"] = "bash",
                ["args"] = new JsonArray("--norc", "-c", "exec cat", "--token=${SIDECAR_TEST_SECRET}"),
                ["env"] = new JsonObject { ["API_TOKEN"] = "${SIDECAR_TEST_SECRET}" },
                ["secretEnv"] = new JsonArray("API_TOKEN"),
            },
        };
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["providers"] = providers }, environment: new Dictionary<string, string> { ["SIDECAR_TEST_SECRET"] = secret, ["API_TOKEN"] = secret });
        var c = sidecar.Client;
        var list = await c.RequestAsync("provider/list", new JsonObject());
        var named = list.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "named");
        Assert.False(named.GetProperty("available").GetBoolean());
        Assert.Contains("'args[3]'", named.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("API_TOKEN", named.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "named" }));
        Assert.Equal(1005, refused.Code);
        var indirect = await Assert.ThrowsAsync<RpcErrorException>(() => c.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "indirect" }));
        Assert.Equal(1005, indirect.Code);
        Assert.Contains("command line", indirect.Message, StringComparison.Ordinal);

        // No agent ran with the secret in its arguments, and it was never shown.
        Assert.DoesNotContain(Directory.EnumerateDirectories("/proc"), d => int.TryParse(Path.GetFileName(d), out _) && ReadCmdline(d).Contains(secret, StringComparison.Ordinal));
        var seen = list.GetRawText() + refused.Message + indirect.Message + string.Concat(c.Notifications.Select(n => n.GetRawText()));
        await sidecar.ShutdownAsync();
        Assert.DoesNotContain(secret, seen, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, sidecar.Stderr, StringComparison.Ordinal);
    }

    private static string ReadCmdline(string procDir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procDir, "cmdline"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static string OutputOf(List<JsonElement> events) =>
        string.Concat(events.Where(e => e.GetProperty("type").GetString() == "output").Select(e => e.GetProperty("data").GetProperty("data").GetString()));
}
