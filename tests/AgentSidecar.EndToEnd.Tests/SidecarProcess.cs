using System.Diagnostics;
using System.Net.Sockets;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>The built sidecar, run as a process over stdio in a private data directory and HOME.</summary>
public sealed class SidecarProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();
    private bool _left;

    private SidecarProcess(Process process, string dataDir, RpcClient client)
    {
        _process = process;
        DataDir = dataDir;
        Client = client;
    }

    public string DataDir { get; }

    public RpcClient Client { get; }

    public int Pid => _process.Id;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "agent-sidecar.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root");
        }
    }

    /// <summary>The built sidecar executable ($AGENT_SIDECAR_BIN overrides).</summary>
    public static string Executable
    {
        get
        {
            if (Environment.GetEnvironmentVariable("AGENT_SIDECAR_BIN") is { Length: > 0 } bin)
            {
                return bin;
            }

            // Same configuration as this test assembly (Debug/Release).
            var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
            return Path.Combine(RepoRoot, "src", "AgentSidecar", "bin", config, "net10.0", "agent-sidecar");
        }
    }

    /// <summary>
    /// The default HOME: <c>home</c> beside the data directory, never inside it (the sidecar refuses
    /// a data directory that is not empty and not its own, and a test must not get round that).
    /// A data directory straight under the temp folder has no test folder to share: give it one.
    /// </summary>
    public static string BesideHome(string dataDir)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(dataDir))!;
        if (Path.TrimEndingDirectorySeparator(parent) == Path.TrimEndingDirectorySeparator(Path.GetTempPath()))
        {
            throw new InvalidOperationException($"the data directory {dataDir} is directly in the temp folder: make it a folder of the test's own (e.g. <test dir>/data), so HOME can sit beside it");
        }

        return Path.Combine(parent, "home");
    }

    public static async Task<SidecarProcess> StartAsync(string dataDir, string? home = null, IEnumerable<string>? extraArgs = null, bool initialize = true, System.Text.Json.Nodes.JsonObject? initializationOptions = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        home ??= BesideHome(dataDir);
        Directory.CreateDirectory(home);
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        psi.ArgumentList.Add("--data-dir");
        psi.ArgumentList.Add(dataDir);
        foreach (var a in extraArgs ?? [])
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = home;
        psi.Environment["SHELL"] = "/bin/bash";
        psi.Environment["PS1"] = "$ ";
        psi.Environment.Remove("PROMPT_COMMAND");
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(home, ".config");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        var client = new RpcClient(process.StandardOutput.BaseStream, process.StandardInput.BaseStream);
        var sidecar = new SidecarProcess(process, dataDir, client);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (sidecar._stderr)
                {
                    sidecar._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        if (initialize)
        {
            await client.InitializeAsync(initializationOptions);
        }

        return sidecar;
    }

    /// <summary>Connects a second client to the sidecar's unix socket.</summary>
    public static async Task<RpcClient> ConnectSocketAsync(string path, System.Text.Json.Nodes.JsonObject? initializationOptions = null)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var stream = new NetworkStream(socket, ownsSocket: true);
        var client = new RpcClient(stream, stream);
        await client.InitializeAsync(initializationOptions);
        return client;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Kill() => _process.Kill(entireProcessTree: false);

    public bool HasExited => _process.HasExited;

    /// <summary>The editor goes away without a word (a window reload): its end of stdin closes.</summary>
    public void Leave()
    {
        _left = true;
        _process.StandardInput.Close();
    }

    public async Task ShutdownAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        try
        {
            await Client.RequestAsync("shutdown", null, TimeSpan.FromSeconds(20));
            await Client.NotifyAsync("exit", null);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or ObjectDisposedException or RpcErrorException)
        {
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(20));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_left)
            {
                // Its editor is gone: whoever took over stops it (else it is killed below).
                await WaitForExitAsync(TimeSpan.FromSeconds(20));
            }
            else
            {
                await ShutdownAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        Client.Dispose();
    }
}
