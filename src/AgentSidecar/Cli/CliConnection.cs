using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.Rpc;

namespace AgentSidecar.Cli;

/// <summary>An error the sidecar answered with (its code decides the CLI's exit code).</summary>
internal sealed class CliRpcException(int code, string message, JsonElement? data) : Exception(message)
{
    public int Code { get; } = code;

    public JsonElement? ErrorData { get; } = data;
}

/// <summary>The CLI cannot reach or start a sidecar.</summary>
internal sealed class CliUnavailableException(string message) : Exception(message);

/// <summary>
/// The CLI's side of protocol v1: LSP-framed JSON-RPC over a running sidecar's unix socket, or over
/// the stdio of a sidecar it started itself (which then suspends its sessions when the CLI leaves).
/// </summary>
internal sealed class CliConnection : IAsyncDisposable
{
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly Process? _child;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly Task _reader;
    private long _nextId;

    private CliConnection(Stream input, Stream output, Process? child, string description)
    {
        _input = input;
        _output = output;
        _child = child;
        Description = description;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Where the CLI is connected: "the sidecar (pid N) at PATH" or "a sidecar started for this command".</summary>
    public string Description { get; }

    /// <summary>True when this CLI started the sidecar: its sessions are suspended when the CLI exits.</summary>
    public bool OwnsSidecar => _child is not null;

    /// <summary>Server notifications (method, params), on the reader's thread.</summary>
    public Action<string, JsonElement>? OnNotification { get; set; }

    public static async Task<CliConnection> ConnectSocketAsync(string path, int? pid)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path)).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            socket.Dispose();
            throw;
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        var connection = new CliConnection(stream, stream, null, pid is { } p ? $"the sidecar (pid {p}) at {path}" : $"the sidecar at {path}");
        await connection.InitializeAsync().ConfigureAwait(false);
        return connection;
    }

    /// <summary>Starts this executable as a sidecar on stdio with the same data and config directories.</summary>
    public static async Task<CliConnection> StartChildAsync(CliContext context)
    {
        var exe = Environment.ProcessPath ?? throw new CliUnavailableException("cannot find this program's path to start a sidecar");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--stdio", "--data-dir", context.DataDir, "--config-dir", context.ConfigDir, "--log-level", "Warning" })
        {
            psi.ArgumentList.Add(a);
        }

        var child = Process.Start(psi) ?? throw new CliUnavailableException($"could not start {exe}");
        var log = Path.Combine(context.DataDir, "run", $"cli-sidecar-{child.Id}.log");
        _ = Task.Run(async () =>
        {
            // The child's log goes to a file (the terminal belongs to the chat).
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(log)!);
                await using var file = new FileStream(log, FileMode.Create, FileAccess.Write, FileShare.Read);
                await child.StandardError.BaseStream.CopyToAsync(file).ConfigureAwait(false);
            }
            catch (IOException)
            {
            }
        });
        var connection = new CliConnection(child.StandardOutput.BaseStream, child.StandardInput.BaseStream, child, $"a sidecar started for this command (pid {child.Id}, log {log})");
        try
        {
            await connection.InitializeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or CliRpcException or TimeoutException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new CliUnavailableException($"the sidecar did not start: {ex.Message} (see {log})");
        }

        return connection;
    }

    public async Task<JsonElement> RequestAsync(string method, JsonNode? parameters, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method };
        if (parameters is not null)
        {
            message["params"] = parameters;
        }

        await WriteAsync(message).ConfigureAwait(false);
        using (cancellationToken.Register(() =>
        {
            _ = NotifyAsync("$/cancelRequest", new JsonObject { ["id"] = id });
        }))
        {
            return await tcs.Task.ConfigureAwait(false);
        }
    }

    public Task NotifyAsync(string method, JsonNode? parameters)
    {
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method };
        if (parameters is not null)
        {
            message["params"] = parameters;
        }

        return WriteAsync(message);
    }

    public async ValueTask DisposeAsync()
    {
        if (_child is not null)
        {
            // Our own sidecar: a graceful shutdown suspends the sessions it ran (resumable later).
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await RequestAsync("shutdown", null, cts.Token).WaitAsync(cts.Token).ConfigureAwait(false);
                await NotifyAsync("exit", null).ConfigureAwait(false);
                await _child.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or CliRpcException or ObjectDisposedException)
            {
                _child.Kill(entireProcessTree: true);
            }

            _child.Dispose();
        }

        await _output.DisposeAsync().ConfigureAwait(false);
        if (!ReferenceEquals(_input, _output))
        {
            await _input.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _writeLock.Dispose();
    }

    private async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var init = RequestAsync("initialize", new JsonObject
        {
            ["processId"] = Environment.ProcessId,
            ["clientInfo"] = new JsonObject { ["name"] = "agent-sidecar-cli", ["version"] = Hosting.SidecarHost.Version },
        });
        await init.WaitAsync(cts.Token).ConfigureAwait(false);
        await NotifyAsync("initialized", new JsonObject()).ConfigureAwait(false);
    }

    private async Task WriteAsync(JsonObject message)
    {
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _output.WriteAsync(header).ConfigureAwait(false);
            await _output.WriteAsync(body).ConfigureAwait(false);
            await _output.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var reader = new HeaderDelimitedReader(PipeReader.Create(_input), 256L * 1024 * 1024);
        try
        {
            while (true)
            {
                var frame = await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                if (frame.Kind != FrameKind.Message)
                {
                    break;
                }

                JsonElement root;
                using (var doc = JsonDocument.Parse(frame.Body))
                {
                    root = doc.RootElement.Clone();
                }

                reader.Consume(frame);
                Dispatch(root);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or JsonException or InvalidOperationException)
        {
        }

        foreach (var (_, tcs) in _pending)
        {
            tcs.TrySetException(new IOException("the sidecar closed the connection"));
        }
    }

    private void Dispatch(JsonElement root)
    {
        if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number && !root.TryGetProperty("method", out _))
        {
            if (_pending.TryRemove(idElement.GetInt64(), out var tcs))
            {
                if (root.TryGetProperty("error", out var error))
                {
                    tcs.TrySetException(new CliRpcException(
                        error.GetProperty("code").GetInt32(),
                        error.TryGetProperty("message", out var m) ? m.GetString() ?? "error" : "error",
                        error.TryGetProperty("data", out var d) ? d.Clone() : null));
                }
                else
                {
                    tcs.TrySetResult(root.TryGetProperty("result", out var r) ? r.Clone() : default);
                }
            }

            return;
        }

        if (root.TryGetProperty("method", out var method) && !root.TryGetProperty("id", out _))
        {
            OnNotification?.Invoke(method.GetString() ?? string.Empty, root.TryGetProperty("params", out var p) ? p : default);
        }
    }
}
