using AgentSidecar.Core.Providers;

namespace AgentSidecar.Core.Tests;

/// <summary>How a session's MCP servers are kept and handed to each kind of agent.</summary>
public sealed class McpServersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mcp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static McpServerSpec Server(string name, params (string, string)[] env) =>
        new(name, "/usr/bin/node", ["server.js", "--x y"], env.ToDictionary(e => e.Item1, e => e.Item2));

    [Fact]
    public void Saved_AsTheAgentsJsonFile_Mode0600_AndLoadedBackThroughTheClearChain()
    {
        McpServers.Save(_dir, "s1", [Server("tools", ("API_KEY", "secret"))]);
        var path = McpServers.FilePath(_dir, "s1");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Contains("\"mcpServers\"", File.ReadAllText(path), StringComparison.Ordinal);

        // A session after a /clear has no file of its own: its chain's is used.
        var loaded = McpServers.Load(_dir, ["s2", "s1"]);
        Assert.NotNull(loaded);
        Assert.Equal(path, loaded.Value.Path);
        var s = Assert.Single(loaded.Value.Servers);
        Assert.Equal(("tools", "/usr/bin/node", "secret"), (s.Name, s.Command, s.Env["API_KEY"]));
        Assert.Equal(["server.js", "--x y"], s.Args);
        Assert.Null(McpServers.Load(_dir, ["s3"]));
    }

    [Fact]
    public void JsonFileAgents_GetTheFlagAndTheFile_AndNothingElse()
    {
        var (args, env) = McpServers.ToLaunch(new ProviderMcp { Style = ProviderMcp.JsonFile, Flag = "--mcp-config" }, "/d/mcp/s1.json", [Server("a", ("K", "v"))]);
        Assert.Equal(["--mcp-config", "/d/mcp/s1.json"], args);
        Assert.Empty(env);
    }

    [Fact]
    public void Codex_GetsTomlOverrides_AndTheEnvValuesThroughItsEnvironmentOnly()
    {
        var (args, env) = McpServers.ToLaunch(new ProviderMcp { Style = ProviderMcp.CodexConfig }, "", [Server("a", ("API_KEY", "secret")), Server("b")]);
        Assert.Equal(
            ["-c", "mcp_servers.a.command=\"/usr/bin/node\"", "-c", "mcp_servers.a.args=[\"server.js\",\"--x y\"]", "-c", "mcp_servers.a.env_vars=[\"API_KEY\"]",
             "-c", "mcp_servers.b.command=\"/usr/bin/node\"", "-c", "mcp_servers.b.args=[\"server.js\",\"--x y\"]"],
            args);
        Assert.DoesNotContain(args, a => a.Contains("secret", StringComparison.Ordinal));
        Assert.Equal("secret", env["API_KEY"]);

        var clash = Assert.Throws<InvalidMcpServerException>(() => McpServers.ToLaunch(new ProviderMcp { Style = ProviderMcp.CodexConfig }, "", [Server("a", ("K", "1")), Server("b", ("K", "2"))]));
        Assert.Equal("mcpServers", clash.Field);
    }

    [Theory]
    [InlineData("has space", "/bin/x", "K", "mcpServers[0].name")]
    [InlineData("ok", " ", "K", "mcpServers[0].command")]
    [InlineData("ok", "/bin/x", "1BAD", "mcpServers[0].env")]
    public void Invalid_NamesTheField(string name, string command, string envName, string field)
    {
        var ex = Assert.Throws<InvalidMcpServerException>(() => McpServers.Validate([new McpServerSpec(name, command, [], new Dictionary<string, string> { [envName] = "v" })]));
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void DuplicateNames_AreRefused() =>
        Assert.Equal("mcpServers[1].name", Assert.Throws<InvalidMcpServerException>(() => McpServers.Validate([Server("a"), Server("a")])).Field);
}
