using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// Whose initializationOptions configure the process (docs/protocol.md, "initialize"): the primary
/// client's, checked whole before any is applied; a socket client's defaultProvider is its own.
/// </summary>
public sealed class InitializationOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-init-").FullName;
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
    public async Task SocketClient_CannotReconfigureTheSidecar_ItsDefaultProviderIsItsOwn()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: new JsonObject { ["defaultProvider"] = "shell" });
        var socket = sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString()!;
        var ws = Directory.CreateTempSubdirectory("ws-").FullName;

        using var second = await SidecarProcess.ConnectSocketAsync(socket, new JsonObject
        {
            ["defaultProvider"] = "no-such-agent",
            ["metrics"] = new JsonObject { ["endpoint"] = "http://127.0.0.1:9/metrics" },
            ["cleanup"] = new JsonObject { ["idleSeconds"] = 1 },
        });
        var ignored = second.InitializeResult!.Value.GetProperty("ignoredOptions").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["metrics", "cleanup"], ignored);

        // The process-wide settings stayed the primary's.
        var status = await sidecar.Client.RequestAsync("metrics/status", new JsonObject());
        Assert.False(status.TryGetProperty("endpoint", out var endpoint) && endpoint.ValueKind == JsonValueKind.String, $"metrics/status: {status}");

        // Each connection's default provider is its own.
        var error = await Assert.ThrowsAsync<RpcErrorException>(() => second.RequestAsync("session/start", new JsonObject { ["workspace"] = ws }));
        Assert.Equal(1005, error.Code);
        Assert.Contains("no-such-agent", error.Message, StringComparison.Ordinal);
        var started = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws });
        Assert.Equal("shell", started.GetProperty("provider").GetString());
        Assert.False(sidecar.Client.InitializeResult!.Value.TryGetProperty("ignoredOptions", out _));
    }

    [Fact(Timeout = 60000)]
    public async Task PrimaryClient_ABadValue_ChangesNothing()
    {
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initialize: false);
        var error = await Assert.ThrowsAsync<RpcErrorException>(() => sidecar.Client.InitializeAsync(new JsonObject
        {
            ["defaultProvider"] = "no-such-agent",
            ["metrics"] = new JsonObject { ["endpoint"] = "http://127.0.0.1:9/metrics" },
            ["cleanup"] = new JsonObject { ["idleSeconds"] = "soon" },
        }));
        Assert.Equal(-32602, error.Code);
        Assert.Equal("initializationOptions.cleanup", error.ErrorData!.Value.GetProperty("field").GetString());

        // Initialize again, without options: neither the endpoint nor the default provider of the failed one stuck.
        await sidecar.Client.InitializeAsync();
        var status = await sidecar.Client.RequestAsync("metrics/status", new JsonObject());
        Assert.False(status.TryGetProperty("endpoint", out var endpoint) && endpoint.ValueKind == JsonValueKind.String, $"metrics/status: {status}");
        var ws = Directory.CreateTempSubdirectory("ws-").FullName;
        var started = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws });
        Assert.Equal("shell", started.GetProperty("provider").GetString());
    }
}
