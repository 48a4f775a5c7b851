using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// <c>session/start</c>'s <c>mcpServers</c> reach the real agents: each starts the test's MCP
/// server (tests/testdata/agents/mcp-marker.mjs), which writes down the token it got through its
/// env; the token is never on the agent's command line.
/// </summary>
public sealed class McpServerAgentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 180000)]
    public async Task Codex_StartsTheSessionsMcpServer_WithItsEnv_OffTheCommandLine()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "mcp");
        await AssertMcpServerStartedAsync(run, "codex");
    }

    [Fact(Timeout = 180000)]
    public async Task ClaudeCode_StartsTheSessionsMcpServer_WithItsEnv_OffTheCommandLine()
    {
        await using var server = await FakeAnthropicServer.StartAsync();
        await using var run = await AgentRun.ClaudeAsync(server, "mcp");
        await AssertMcpServerStartedAsync(run, "claude");
    }

    [Fact(Timeout = 180000)]
    public async Task Auggie_StartsTheSessionsMcpServer_WithItsEnv_OffTheCommandLine()
    {
        await using var server = await FakeAuggieServer.StartAsync();
        await using var run = await AgentRun.AuggieAsync(server, "mcp");
        await AssertMcpServerStartedAsync(run, "auggie");
    }

    [Fact(Timeout = 60000)]
    public async Task McpServers_ForAProviderWithoutThem_OrMalformed_AreRefused_NamingTheField()
    {
        await using var server = await FakeCodexServer.StartAsync();
        await using var run = await AgentRun.CodexAsync(server, "mcp-bad");
        var shell = await Assert.ThrowsAsync<RpcErrorException>(() => run.Client.RequestAsync("session/start", Start(run.Workspace, "shell", Server("ok", "node"))));
        Assert.Equal(-32602, shell.Code);
        Assert.Equal("mcpServers", shell.ErrorData?.GetProperty("field").GetString());

        var name = await Assert.ThrowsAsync<RpcErrorException>(() => run.Client.RequestAsync("session/start", Start(run.Workspace, "codex", Server("no spaces", "node"))));
        Assert.Equal("mcpServers[0].name", name.ErrorData?.GetProperty("field").GetString());

        var command = await Assert.ThrowsAsync<RpcErrorException>(() => run.Client.RequestAsync("session/start", Start(run.Workspace, "codex", Server("x", ""))));
        Assert.Equal("mcpServers[0].command", command.ErrorData?.GetProperty("field").GetString());
        Assert.Empty((await run.Client.RequestAsync("session/list", new JsonObject())).GetProperty("sessions").EnumerateArray());
    }

    private static async Task AssertMcpServerStartedAsync(AgentRun run, string provider)
    {
        var bins = await AgentInstall.GetAsync();
        var marker = Path.Combine(run.Dir, $"mcp-started-{Guid.NewGuid():N}.json");
        var token = $"tok-{Guid.NewGuid():N}";
        var script = Path.Combine(AgentInstall.RepoRoot(), "tests", "testdata", "agents", "mcp-marker.mjs");
        var mcp = new JsonObject
        {
            ["name"] = "marker",
            ["command"] = bins.NodeBin,
            ["args"] = new JsonArray(script, marker, "--flag"),
            ["env"] = new JsonObject { ["MCP_TOKEN"] = token },
        };
        var s = await run.Client.RequestAsync("session/start", Start(run.Workspace, provider, mcp), Wait);
        Assert.Equal("active", s.GetProperty("status").GetString());
        var agentPid = s.GetProperty("workers")[0].GetProperty("pid").GetInt32();

        var deadline = DateTime.UtcNow + Wait;
        while (!File.Exists(marker) || File.ReadAllText(marker).Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{provider} never started the MCP server");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        using var started = JsonDocument.Parse(File.ReadAllText(marker));
        Assert.Equal(token, started.RootElement.GetProperty("token").GetString());
        Assert.Equal(["--flag"], started.RootElement.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.DoesNotContain(token, File.ReadAllText($"/proc/{agentPid}/cmdline"), StringComparison.Ordinal);
    }

    private static JsonObject Start(string workspace, string provider, JsonObject server) =>
        new() { ["workspace"] = workspace, ["provider"] = provider, ["mcpServers"] = new JsonArray(server) };

    private static JsonObject Server(string name, string command) => new() { ["name"] = name, ["command"] = command };
}
