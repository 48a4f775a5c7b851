using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AgentSidecar.Protocol;
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
    private static readonly JsonElement NullElement = ParseElement("null");

    private readonly Stream _input;
    private readonly Stream _output;
    private readonly Process? _child;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ConcurrentDictionary<string, Action<JsonElement>> _handlers = new(StringComparer.Ordinal);
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

    /// <summary>Sends a request and reads its result as the method's result record.</summary>
    public async Task<TResult> RequestAsync<TParams, TResult>(RequestType<TParams, TResult> type, TParams parameters, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        await WriteAsync(type.Method, id, w => JsonSerializer.Serialize(w, parameters, type.Params)).ConfigureAwait(false);
        JsonElement result;
        using (cancellationToken.Register(() =>
        {
            // Best effort: if it cannot be written the connection is gone, and the read loop fails the request.
            _ = NotifyAsync(CliProtocol.CancelRequest, new CancelParams { Id = ParseElement(id.ToString(CultureInfo.InvariantCulture)) });
        }))
        {
            result = await tcs.Task.ConfigureAwait(false);
        }

        return result.Deserialize(type.Result) ?? throw new JsonException($"the sidecar answered {type.Method} with null");
    }

    public Task NotifyAsync<TParams>(NotificationType<TParams> type, TParams parameters) =>
        WriteAsync(type.Method, null, w => JsonSerializer.Serialize(w, parameters, type.Params));

    /// <summary>
    /// Calls <paramref name="handler"/> (on the reader's thread) with each notification of this type;
    /// one whose params are not its record is skipped.
    /// </summary>
    public void On<TParams>(NotificationType<TParams> type, Action<TParams> handler) =>
        _handlers[type.Method] = element =>
        {
            if (element.Deserialize(type.Params) is { } parameters)
            {
                handler(parameters);
            }
        };

    public async ValueTask DisposeAsync()
    {
        if (_child is not null)
        {
            // Our own sidecar: a graceful shutdown suspends the sessions it ran (resumable later).
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await RequestAsync(CliProtocol.Shutdown, new EmptyParams(), cts.Token).WaitAsync(cts.Token).ConfigureAwait(false);
                await NotifyAsync(CliProtocol.Exit, new EmptyParams()).ConfigureAwait(false);
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
        var init = RequestAsync(CliProtocol.Initialize, new InitializeParams
        {
            ProcessId = Environment.ProcessId,
            ClientInfo = new ClientInfo { Name = "agent-sidecar-cli", Version = Hosting.SidecarVersion.Value },
        });
        await init.WaitAsync(cts.Token).ConfigureAwait(false);
        await NotifyAsync(CliProtocol.Initialized, new EmptyParams()).ConfigureAwait(false);
    }

    private static JsonElement ParseElement(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    /// <summary>Writes one message: <c>{"jsonrpc":"2.0","id"?,"method","params"}</c> in an LSP frame.</summary>
    private async Task WriteAsync(string method, long? id, Action<Utf8JsonWriter> writeParams)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc"u8, "2.0"u8);
            if (id is { } i)
            {
                writer.WriteNumber("id"u8, i);
            }

            writer.WriteString("method"u8, method);
            writer.WritePropertyName("params"u8);
            writeParams(writer);
            writer.WriteEndObject();
        }

        var body = buffer.WrittenMemory;
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
                    tcs.TrySetResult(root.TryGetProperty("result", out var r) ? r.Clone() : NullElement);
                }
            }

            return;
        }

        if (root.TryGetProperty("method", out var method) && !root.TryGetProperty("id", out _)
            && _handlers.TryGetValue(method.GetString() ?? string.Empty, out var handler) && root.TryGetProperty("params", out var p))
        {
            try
            {
                handler(p);
            }
            catch (JsonException)
            {
                // Not the shape this CLI knows (a newer sidecar?): skipped, the connection goes on.
            }
        }
    }
}
