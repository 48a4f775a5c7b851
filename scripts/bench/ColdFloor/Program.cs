// The floor under the sidecar's cold start: a process that opens a SQLite file and answers
// initialize over stdio through StreamJsonRpc (LSP framing, System.Text.Json), nothing else.
// Layers, chosen in the runtimeconfig so one build gives all (SidecarBench cold alternates them):
//   ColdFloor.Host  (default true)  the Generic Host around it, serving from a hosted service
//   ColdFloor.Store (default true)  the SQLite file opened (WAL) before the answer
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StreamJsonRpc;

var dataDir = Path.GetTempPath();
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--data-dir")
    {
        dataDir = args[i + 1];
    }
}

var withHost = !AppContext.TryGetSwitch("ColdFloor.Host", out var h) || h;
var withStore = !AppContext.TryGetSwitch("ColdFloor.Store", out var s) || s;
if (!withHost)
{
    await Floor.ServeAsync(dataDir, withStore, CancellationToken.None);
    return;
}

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "cold-floor" });
builder.Services.AddSingleton(new FloorSettings(dataDir, withStore));
builder.Services.AddHostedService<FloorService>();
await builder.Build().RunAsync();

internal sealed record FloorSettings(string DataDir, bool WithStore);

internal sealed class FloorService(FloorSettings settings, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Floor.ServeAsync(settings.DataDir, settings.WithStore, stoppingToken);
        lifetime.StopApplication();
    }
}

internal static class Floor
{
    public static async Task ServeAsync(string dataDir, bool withStore, CancellationToken ct)
    {
        SqliteConnection? db = null;
        if (withStore)
        {
            Directory.CreateDirectory(dataDir);
            SQLitePCL.Batteries_V2.Init();
            db = new SqliteConnection($"Data Source={Path.Combine(dataDir, "floor.db")}");
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA user_version;";
            _ = cmd.ExecuteScalar();
        }

        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = FloorJson.Default.Options };
        using var rpc = new JsonRpc(new HeaderDelimitedMessageHandler(Console.OpenStandardOutput(), Console.OpenStandardInput(), formatter));
        var lifecycle = new Lifecycle();
        rpc.AddLocalRpcTarget(lifecycle);
        rpc.StartListening();
        await Task.WhenAny(rpc.Completion, lifecycle.Exited, Task.Delay(Timeout.Infinite, ct));
        db?.Dispose();
    }
}

internal sealed class Lifecycle
{
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Exited => _exited.Task;

    [JsonRpcMethod("initialize", UseSingleObjectParameterDeserialization = true)]
    public InitResult Initialize(JsonElement p) => new(new ServerInfo("cold-floor", Environment.ProcessId));

    [JsonRpcMethod("initialized", UseSingleObjectParameterDeserialization = true)]
    public void Initialized(JsonElement p)
    {
    }

    [JsonRpcMethod("shutdown")]
    public object? Shutdown() => null;

    [JsonRpcMethod("exit")]
    public void Exit() => _exited.TrySetResult();
}

internal sealed record ServerInfo(string Name, int Pid);

internal sealed record InitResult(ServerInfo ServerInfo);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(InitResult))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class FloorJson : JsonSerializerContext;
