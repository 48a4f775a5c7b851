using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using AgentSidecar.Protocol;

using StreamJsonRpc;

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
/// The CLI's side of protocol v1, on StreamJsonRpc's client: LSP-framed JSON-RPC over a running
/// sidecar's unix socket, or over the stdio of a sidecar it started itself (which then suspends its
/// sessions when the CLI leaves). Requests and notifications are written and read with the
/// protocol's records (<see cref="CliProtocol"/>); notifications are handled one at a time in the
/// order they arrive.
/// </summary>
internal sealed class CliConnection : IAsyncDisposable
{
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly Process? _child;
    private readonly ClientRpc _rpc;
    private readonly ConcurrentDictionary<string, Action<JsonElement>> _handlers = new(StringComparer.Ordinal);

    private CliConnection(Stream input, Stream output, Process? child, string description)
    {
        _input = input;
        _output = output;
        _child = child;
        Description = description;
        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = ProtocolJsonContext.Default.Options };
        _rpc = new ClientRpc(new HeaderDelimitedMessageHandler(output, input, formatter))
        {
            SynchronizationContext = new Microsoft.VisualStudio.Threading.NonConcurrentSynchronizationContext(sticky: false),
            AllowModificationWhileListening = true,
        };
        _rpc.TraceSource.Switch.Level = SourceLevels.Off;
        _rpc.StartListening();
    }

    /// <summary>Where the CLI is connected: "the sidecar (pid N) at PATH" or "a sidecar started for this command".</summary>
    public string Description { get; }

    /// <summary>True when this process started the sidecar: a CLI command shuts it down as it exits (its sessions suspended); the ACP agent leaves it lingering (<see cref="CliContext.ChildLingers"/>).</summary>
    public bool OwnsSidecar => _child is not null;

    /// <summary>setsid(1): starts a program as the leader of a new session (util-linux, on every Debian).</summary>
    private const string SetsidPath = "/usr/bin/setsid";

    private const string ShPath = "/bin/sh";

    /// <summary>The sidecar this process started is left, not shut down, when it disposes (<see cref="CliContext.ChildLingers"/>).</summary>
    private bool ChildLingers { get; init; }

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
        try
        {
            await connection.InitializeAsync().ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    /// <summary>Starts this executable as a sidecar on stdio with the same data and config directories.</summary>
    public static async Task<CliConnection> StartChildAsync(CliContext context)
    {
        var exe = Environment.ProcessPath ?? throw new CliUnavailableException("cannot find this program's path to start a sidecar");

        // A lingering sidecar leads a session of its own (setsid(1), util-linux): an editor that
        // ends its agent's process group, or the terminal it ran in, does not take it along. Its
        // log goes straight to the file (sh's redirection), so it is kept after this process exits.
        var detach = context.ChildLingers && File.Exists(SetsidPath) && File.Exists(ShPath);
        var log = Path.Combine(context.DataDir, "run", detach ? $"acp-sidecar-{Environment.ProcessId}.log" : "cli-sidecar-{0}.log");
        var psi = new ProcessStartInfo(detach ? ShPath : exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = !detach,
            UseShellExecute = false,
        };
        if (detach)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            foreach (var a in new[] { "-c", $"log=$1; shift; exec {SetsidPath} \"$@\" 2>>\"$log\"", "sh", log, exe })
            {
                psi.ArgumentList.Add(a);
            }
        }

        foreach (var a in new[] { "--stdio", "--data-dir", context.DataDir, "--config-dir", context.ConfigDir, "--log-level", "Warning" })
        {
            psi.ArgumentList.Add(a);
        }

        if (context.AdoptDataDir)
        {
            psi.ArgumentList.Add(Hosting.DataDirectoryCheck.AdoptOption);
        }

        var child = Process.Start(psi) ?? throw new CliUnavailableException($"could not start {exe}");
        if (!detach)
        {
            log = string.Format(CultureInfo.InvariantCulture, log, child.Id);
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
        }

        var connection = new CliConnection(child.StandardOutput.BaseStream, child.StandardInput.BaseStream, child, $"a sidecar started for this command (pid {child.Id}, log {log})")
        {
            ChildLingers = context.ChildLingers,
        };
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
        // The params and result go through the request's own records (JsonElement on the wire
        // layer), so a call site cannot send or read the wrong shape. A cancelled token sends
        // $/cancelRequest (StreamJsonRpc's cancellation).
        JsonElement result;
        try
        {
            result = await _rpc.InvokeWithParameterObjectAsync<JsonElement>(type.Method, JsonSerializer.SerializeToElement(parameters, type.Params), cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteRpcException ex) when (ex.ErrorCode is { } code)
        {
            throw new CliRpcException((int)code, ex.Message, ex.DeserializedErrorData as JsonElement?);
        }
        catch (ConnectionLostException ex)
        {
            throw new IOException("the sidecar closed the connection", ex);
        }
        finally
        {
            await NotificationsBeforeAsync().ConfigureAwait(false);
        }

        return result.Deserialize(type.Result) ?? throw new JsonException($"the sidecar answered {type.Method} with null");
    }

    public async Task NotifyAsync<TParams>(NotificationType<TParams> type, TParams parameters)
    {
        try
        {
            await _rpc.NotifyWithParameterObjectAsync(type.Method, JsonSerializer.SerializeToElement(parameters, type.Params)).ConfigureAwait(false);
        }
        catch (ConnectionLostException ex)
        {
            throw new IOException("the sidecar closed the connection", ex);
        }
    }

    /// <summary>
    /// Calls <paramref name="handler"/> with each notification of this type (one at a time, in
    /// arrival order); one whose params are not its record is skipped.
    /// </summary>
    public void On<TParams>(NotificationType<TParams> type, Action<TParams> handler)
    {
        var first = !_handlers.ContainsKey(type.Method);
        _handlers[type.Method] = element =>
        {
            if (element.Deserialize(type.Params) is { } parameters)
            {
                handler(parameters);
            }
        };
        if (first)
        {
            var dispatch = new Action<JsonElement>(element => Dispatch(type.Method, element));
            _rpc.AddLocalRpcMethod(dispatch.Method, dispatch.Target, new JsonRpcMethodAttribute(type.Method) { UseSingleObjectParameterDeserialization = true });
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_child is not null && ChildLingers)
        {
            // Left, not shut down: the end of its stdin below is an editor leaving; it lingers
            // while its sessions live (lingerSeconds) and stops by itself when nothing is left.
            _child.Dispose();
        }
        else if (_child is not null)
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

        _rpc.Dispose();
        await _output.DisposeAsync().ConfigureAwait(false);
        if (!ReferenceEquals(_input, _output))
        {
            await _input.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var init = RequestAsync(CliProtocol.Initialize, new InitializeParams
        {
            ProcessId = Environment.ProcessId,
            ClientInfo = new ClientInfo { Name = "agent-sidecar-cli", Version = Hosting.SidecarVersion.Value },
        });
        Server = await init.WaitAsync(cts.Token).ConfigureAwait(false);
        await NotifyAsync(CliProtocol.Initialized, new EmptyParams()).ConfigureAwait(false);
    }

    /// <summary>What the sidecar said of itself at initialize (its providers and their features).</summary>
    public InitializeResult? Server { get; private set; }

    /// <summary>
    /// Completes once every notification that arrived before now has been handled. Problem: the
    /// library completes a request on the thread pool while notifications wait their turn on the
    /// dispatch context, so a chat's result was printed before the tool calls that came ahead of
    /// it. Solution: a request's caller goes on only after the notifications queued before its
    /// response (the context runs work in the order it was queued).
    /// </summary>
    private Task NotificationsBeforeAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _rpc.SynchronizationContext!.Post(static state => ((TaskCompletionSource)state!).TrySetResult(), done);
        return done.Task;
    }

    private void Dispatch(string method, JsonElement parameters)
    {
        try
        {
            if (_handlers.TryGetValue(method, out var handler))
            {
                handler(parameters);
            }
        }
        catch (JsonException)
        {
            // Not the shape this CLI knows (a newer sidecar?): skipped, the connection goes on.
        }
    }

    /// <summary>Error data is read as plain JSON (the sidecar's documented <c>data</c> objects).</summary>
    private sealed class ClientRpc(IJsonRpcMessageHandler handler) : JsonRpc(handler)
    {
        protected override Type? GetErrorDetailsDataType(StreamJsonRpc.Protocol.JsonRpcError error) => typeof(JsonElement);
    }
}
