using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AgentSidecar.Protocol;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Hosting;

/// <summary>
/// A sidecar started over stdio in a workspace whose sessions another sidecar on the same data
/// directory runs (one that outlived a reloaded window, see <see cref="Lingering"/>, or another
/// window's) does not start a second one: it sends that sidecar <c>$/handOver</c> on its socket
/// and then relays its editor's bytes both ways, unchanged. The editor talks to the sidecar that
/// owns its agents (their pids, the event log and its sequence numbers never change hands), and
/// the relay ends with either side. If no such sidecar answers, or it is of another build, this
/// process serves the editor itself as before.
/// </summary>
internal static class StdioHandOver
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Relays stdio to a sidecar that runs this workspace's sessions; null if there is none to relay to.</summary>
    public static async Task<int?> TryRelayAsync(HostSettings settings, CancellationToken ct)
    {
        var workspace = Path.TrimEndingDirectorySeparator(Environment.CurrentDirectory);
        foreach (var (pid, path) in Candidates(settings.DataDir, workspace))
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            NetworkStream? stream = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(HandshakeTimeout);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
                stream = new NetworkStream(socket, ownsSocket: true);
                var refusal = await HandshakeAsync(stream, workspace, timeout.Token).ConfigureAwait(false);
                if (refusal is not null)
                {
                    await Console.Error.WriteLineAsync($"agent-sidecar: the sidecar (pid {pid}) that runs this workspace's sessions does not take this editor ({refusal}): serving it here").ConfigureAwait(false);
                    await stream.DisposeAsync().ConfigureAwait(false);
                    continue;
                }

                await Console.Error.WriteLineAsync($"agent-sidecar: this workspace's sessions run in the sidecar (pid {pid}); relaying this editor to it at {path}").ConfigureAwait(false);
                return await RelayAsync(socket, stream).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or JsonException or FormatException)
            {
                // Gone meanwhile, or not answering: try the next one, else serve here.
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
                else
                {
                    socket.Dispose();
                }
            }
        }

        return null;
    }

    /// <summary>Live sidecars (pid + start time) on this data directory that own a live session of <paramref name="workspace"/>.</summary>
    private static List<(int Pid, string Socket)> Candidates(string dataDir, string workspace)
    {
        var run = Path.Combine(dataDir, "run");
        var db = Path.Combine(dataDir, "sidecar.db");

        // Cheap first: without another sidecar's socket there is nothing to open the database for.
        if (!Directory.Exists(run) || !File.Exists(db) || !Directory.EnumerateFiles(run, "sidecar-*.sock").Any())
        {
            return [];
        }

        var rows = SidecarStore.Open(db).ListSessions(new SessionQuery { Statuses = [Store.SessionStatuses.Created, Store.SessionStatuses.Active], Limit = 10_000 });
        var resolved = new Dictionary<string, bool>(StringComparer.Ordinal);
        return rows
            .Where(r => r is { OwnerPid: { } pid, OwnerStart: { } start, OwnerSocket: { } socket }
                && pid != Environment.ProcessId && File.Exists(socket) && ProcessInfo.IsAlive(pid, start)
                && SameFolder(r.Workspace, workspace, resolved))
            .GroupBy(r => (r.OwnerPid!.Value, r.OwnerSocket!))
            .OrderByDescending(g => g.Count())
            .Select(g => g.Key)
            .ToList();
    }

    /// <summary>The session's workspace is this folder, also when one of them was reached through a symlink.</summary>
    private static bool SameFolder(string sessionWorkspace, string cwd, Dictionary<string, bool> resolved)
    {
        if (string.Equals(sessionWorkspace, cwd, StringComparison.Ordinal))
        {
            return true;
        }

        if (!resolved.TryGetValue(sessionWorkspace, out var same))
        {
            // getcwd() is always the real path; the session keeps the path the editor gave.
            same = RealPath(sessionWorkspace) is { } real && string.Equals(real, cwd, StringComparison.Ordinal);
            resolved[sessionWorkspace] = same;
        }

        return same;
    }

    private static string? RealPath(string path)
    {
        try
        {
            var info = new DirectoryInfo(path);
            return info.Exists ? Path.TrimEndingDirectorySeparator(info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Sends <c>$/handOver</c> and reads its answer; null when accepted, else why not.</summary>
    private static async Task<string?> HandshakeAsync(NetworkStream stream, string workspace, CancellationToken ct)
    {
        var request = JsonSerializer.SerializeToUtf8Bytes(
            new HandOverRequest { Params = new HandOverParams { Pid = Environment.ProcessId, Version = SidecarVersion.Build, Workspace = workspace } },
            HandOverJsonContext.Default.HandOverRequest);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"Content-Length: {request.Length}\r\n\r\n"), ct).ConfigureAwait(false);
        await stream.WriteAsync(request, ct).ConfigureAwait(false);

        using var answer = JsonDocument.Parse(await ReadFrameAsync(stream, ct).ConfigureAwait(false));
        return answer.RootElement.TryGetProperty("error", out var error)
            ? error.TryGetProperty("message", out var m) ? m.GetString() : error.ToString()
            : null;
    }

    /// <summary>One header-delimited frame, read byte by byte up to its body (nothing after it is consumed).</summary>
    private static async Task<byte[]> ReadFrameAsync(NetworkStream stream, CancellationToken ct)
    {
        var header = new StringBuilder();
        var one = new byte[1];
        while (header.Length < 4 || header[^4] != '\r' || header[^3] != '\n' || header[^2] != '\r' || header[^1] != '\n')
        {
            if (header.Length > 1024 || await stream.ReadAsync(one, ct).ConfigureAwait(false) == 0)
            {
                throw new IOException("the sidecar closed the connection during the hand-over");
            }

            header.Append((char)one[0]);
        }

        var length = header.ToString().Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).First();
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
        return body;
    }

    /// <summary>Copies stdin to the socket and the socket to stdout until the sidecar ends the connection.</summary>
    private static async Task<int> RelayAsync(Socket socket, NetworkStream stream)
    {
        using (stream)
        {
            var stdin = Console.OpenStandardInput();
            var stdout = Console.OpenStandardOutput();
            var editorLeft = false;
            _ = Task.Run(async () =>
            {
                try
                {
                    await stdin.CopyToAsync(stream).ConfigureAwait(false);
                    editorLeft = true;
                    socket.Shutdown(SocketShutdown.Send); // the sidecar sees the editor's input end
                }
                catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
                {
                }
            });
            try
            {
                var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
                int n;
                while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    await stdout.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                    await stdout.FlushAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
            }

            // The sidecar closed the connection: after the editor's input ended or its exit (0),
            // or because it died (1, so the editor restarts a sidecar, which recovers its sessions).
            return editorLeft ? 0 : 1;
        }
    }
}

/// <summary>The one request the relay writes itself.</summary>
internal sealed record HandOverRequest
{
    public string Jsonrpc { get; init; } = "2.0";

    public string Id { get; init; } = "handOver";

    public string Method { get; init; } = Methods.HandOver;

    public required HandOverParams Params { get; init; }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HandOverRequest))]
internal sealed partial class HandOverJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
