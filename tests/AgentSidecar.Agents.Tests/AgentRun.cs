using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests.Fakes;

namespace AgentSidecar.Tests;

/// <summary>
/// One test's world: a fake model server on 127.0.0.1, the agent's private home pointed at it, a
/// workspace, and the built sidecar with the real agent CLI as its provider's command.
/// </summary>
internal sealed class AgentRun : IAsyncDisposable
{
    private readonly string _sidecarDir;
    private readonly Dictionary<string, string> _env;
    private readonly JsonObject _options;
    private readonly List<SidecarProcess> _left = [];

    private AgentRun(string dir, string workspace, SidecarProcess sidecar, AgentHome home, string sidecarDir, Dictionary<string, string> env, JsonObject options)
    {
        Dir = dir;
        Workspace = workspace;
        Sidecar = sidecar;
        Home = home;
        _sidecarDir = sidecarDir;
        _env = env;
        _options = options;
    }

    public string Dir { get; }

    public string Workspace { get; }

    public SidecarProcess Sidecar { get; private set; }

    public AgentHome Home { get; }

    /// <summary>The sidecar's data directory (to start another sidecar on it).</summary>
    public string SidecarDir => _sidecarDir;

    /// <summary>The HOME the run's sidecars get (beside the data directory, never inside it).</summary>
    public string HomeDir => _env["HOME"];

    public RpcClient Client => Sidecar.Client;

    /// <summary>Codex: CODEX_HOME must not be under /tmp (Codex then prints a warning), so runs live under the test output.</summary>
    public static async Task<AgentRun> CodexAsync(FakeCodexServer server, string name, string? dir = null, FakeMetricsReceiver? metrics = null)
    {
        var bins = await AgentInstall.GetAsync();
        dir ??= NewDir("codex-" + name);
        var ws = Workspace0(dir);
        var home = CodexHome.Create(Path.Combine(dir, "codex-home"), server.BaseUrl, ws);
        var options = new JsonObject { ["providers"] = new JsonObject { ["codex"] = new JsonObject { ["command"] = bins.CodexBin } } };
        return await StartAsync(dir, ws, home, WithMetrics(options, metrics));
    }

    public static async Task<AgentRun> AuggieAsync(FakeAuggieServer server, string name, string? dir = null, FakeMetricsReceiver? metrics = null)
    {
        var bins = await AgentInstall.GetAsync();
        dir ??= NewDir("auggie-" + name);
        var ws = Workspace0(dir);
        var home = AuggieHome.Create(Path.Combine(dir, "home"), server.BaseUrl, ws);
        var options = new JsonObject
        {
            ["providers"] = new JsonObject { ["auggie"] = new JsonObject { ["command"] = bins.NodeBin, ["args"] = new JsonArray(bins.AuggieBin) } },
        };
        return await StartAsync(dir, ws, home, WithMetrics(options, metrics));
    }

    /// <summary>
    /// Claude Code with a seeded private HOME (no first-run screens) and ANTHROPIC_BASE_URL at the
    /// fake. <paramref name="profile"/> is merged into the <c>claude</c> provider over
    /// <c>command</c> = the installed binary (to try profile changes without touching the built-in).
    /// </summary>
    public static async Task<AgentRun> ClaudeAsync(FakeAnthropicServer server, string name, string? dir = null, FakeMetricsReceiver? metrics = null, JsonObject? profile = null)
    {
        var bins = await AgentInstall.GetAsync();
        var version = await AgentInstall.ClaudeVersionAsync();
        dir ??= NewDir("claude-" + name);
        var ws = Workspace0(dir);
        var home = ClaudeHome.Create(Path.Combine(dir, "home"), server.BaseUrl, ws, version);
        var claude = new JsonObject { ["command"] = bins.ClaudeBin };
        foreach (var (key, value) in profile ?? [])
        {
            claude[key] = value?.DeepClone();
        }

        var options = new JsonObject { ["providers"] = new JsonObject { ["claude"] = claude } };
        return await StartAsync(dir, ws, home, WithMetrics(options, metrics));
    }

    public async Task<JsonElementSession> StartSessionAsync(string provider)
    {
        var s = await Client.RequestAsync("session/start", new JsonObject { ["workspace"] = Workspace, ["provider"] = provider, ["cols"] = 120, ["rows"] = 40 }, TimeSpan.FromSeconds(60));
        return new JsonElementSession(s.GetProperty("id").GetString()!, s.GetProperty("status").GetString()!, s.GetProperty("workers")[0].GetProperty("id").GetString()!, s.GetProperty("workers")[0].TryGetProperty("pid", out var pid) ? pid.GetInt32() : 0);
    }

    public Task<System.Text.Json.JsonElement> SendAsync(string sessionId, string text) =>
        Client.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sessionId, ["text"] = text }, TimeSpan.FromSeconds(60));

    /// <summary>Stops the sidecar (SIGKILL if <paramref name="kill"/>, else a graceful shutdown) and starts a new one on the same data.</summary>
    public async Task RestartAsync(bool kill)
    {
        if (kill)
        {
            Sidecar.Kill();
            await Sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        else
        {
            await Sidecar.ShutdownAsync();
        }

        await Sidecar.DisposeAsync();
        Sidecar = await SidecarProcess.StartAsync(_sidecarDir, home: _env["HOME"], initializationOptions: (JsonObject)_options.DeepClone(), environment: _env);
    }

    /// <summary>
    /// The editor window reloads: the sidecar's stdin closes without a word, and the reloaded
    /// editor starts a sidecar over stdio in the workspace (which hands it over to the first).
    /// </summary>
    public async Task ReloadAsync()
    {
        Sidecar.Leave();
        _left.Add(Sidecar);
        Sidecar = await SidecarProcess.StartAsync(_sidecarDir, home: _env["HOME"], initializationOptions: (JsonObject)_options.DeepClone(), environment: _env, workingDirectory: Workspace);
    }

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        foreach (var left in _left)
        {
            await left.DisposeAsync();
        }

        if (Environment.GetEnvironmentVariable("AGENT_SIDECAR_KEEP_RUNS") is null)
        {
            TryDelete(Dir);
            TryDelete(_sidecarDir);
        }
    }

    private static JsonObject WithMetrics(JsonObject options, FakeMetricsReceiver? metrics)
    {
        if (metrics is not null)
        {
            options["metrics"] = new JsonObject { ["endpoint"] = metrics.Url.ToString(), ["intervalSeconds"] = 300, ["backoffSeconds"] = 0.2 };
        }

        return options;
    }

    private static async Task<AgentRun> StartAsync(string dir, string ws, AgentHome home, JsonObject options)
    {
        // The sidecar's own folder is short (its unix socket path must fit in 108 bytes).
        var sidecarDir = Directory.CreateTempSubdirectory("as-agent-").FullName;
        var env = new Dictionary<string, string>(home.Environment);
        env.TryAdd("HOME", Path.Combine(dir, "home"));
        var sidecar = await SidecarProcess.StartAsync(sidecarDir, home: env["HOME"], initializationOptions: (JsonObject)options.DeepClone(), environment: env);
        return new AgentRun(dir, ws, sidecar, home, sidecarDir, env, options);
    }

    private static string NewDir(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "agent-runs", $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Workspace0(string dir)
    {
        var ws = Path.Combine(dir, "ws");
        Directory.CreateDirectory(ws);
        return ws;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

internal sealed record JsonElementSession(string Id, string Status, string AgentWorkerId, int AgentPid);
