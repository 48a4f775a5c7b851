using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

public sealed class ProviderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-prov-").FullName;
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

    private static JsonElement Provider(JsonElement list, string id) =>
        list.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("id").GetString() == id);

    [Fact(Timeout = 60000)]
    public async Task ProviderList_ShowsBuiltIns_UserProfiles_AndBadProfilesWithTheFieldNamed()
    {
        var home = Path.Combine(_dir, "home");
        Directory.CreateDirectory(Path.Combine(home, ".config", "agent-sidecar"));
        await File.WriteAllTextAsync(Path.Combine(home, ".config", "agent-sidecar", "providers.json"), """
            { "fromfile": { "displayName": "From file", "command": "cat", "ready": { "screen": "." } } }
            """, TestContext.Current.CancellationToken);
        var options = JsonNode.Parse("""
            {
              "providers": {
                "echoer": { "command": "cat", "ready": { "screen": "." }, "versionArgs": ["--version"] },
                "nocommand": { "ready": { "screen": "x" } },
                "badregex": { "command": "cat", "ready": { "screen": "([" } },
                "badtype": { "command": "cat", "args": "not-a-list" },
                "codex": { "command": "definitely-not-installed-codex" }
              }
            }
            """)!.AsObject();
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, home: home, initializationOptions: options);
        var list = await sidecar.Client.RequestAsync("provider/list", null);

        foreach (var id in new[] { "shell", "codex", "auggie", "claude" })
        {
            Provider(list, id);
        }

        var echoer = Provider(list, "echoer");
        Assert.True(echoer.GetProperty("available").GetBoolean());
        Assert.Contains("cat", echoer.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.True(Provider(list, "fromfile").GetProperty("available").GetBoolean());
        Assert.Equal("From file", Provider(list, "fromfile").GetProperty("displayName").GetString());

        Assert.Contains("'command'", Provider(list, "nocommand").GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("'ready.screen'", Provider(list, "badregex").GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("'args'", Provider(list, "badtype").GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.All(new[] { "nocommand", "badregex", "badtype" }, id => Assert.False(Provider(list, id).GetProperty("available").GetBoolean()));

        // A partial override keeps the rest of the built-in profile; the missing command is reported.
        var codex = Provider(list, "codex");
        Assert.False(codex.GetProperty("available").GetBoolean());
        Assert.Contains("definitely-not-installed-codex", codex.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("resume", codex.GetProperty("features").EnumerateArray().Select(f => f.GetString()));

        var ws = Directory.CreateTempSubdirectory("ws-").FullName;
        var ex = await Assert.ThrowsAsync<RpcErrorException>(() => sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "codex" }));
        Assert.Equal(1005, ex.Code);
        Assert.Equal("definitely-not-installed-codex", ex.ErrorData!.Value.GetProperty("command").GetString());
        var bad = await Assert.ThrowsAsync<RpcErrorException>(() => sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "badregex" }));
        Assert.Equal(1005, bad.Code);
        Assert.Contains("ready.screen", bad.Message, StringComparison.Ordinal);
    }
}
