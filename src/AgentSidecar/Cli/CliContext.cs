using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Cli;

/// <summary>The CLI's exit codes (docs/cli.md).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int InvalidState = 4;
    public const int Unavailable = 5;
    public const int NoSidecar = 6;

    /// <summary>The exit code for a protocol error code.</summary>
    public static int FromRpc(int code) => code switch
    {
        1001 or 1002 => NotFound,
        1003 or 1004 => InvalidState,
        1005 or 1006 => Unavailable,
        -32602 => Usage,
        _ => Failed,
    };
}

/// <summary>Where the CLI finds the sidecars and their database.</summary>
internal sealed record CliContext(string DataDir, string ConfigDir, bool Json)
{
    /// <summary><c>--adopt-data-dir</c>: passed on to a sidecar started for the command.</summary>
    public bool AdoptDataDir { get; init; }

    /// <summary>
    /// A sidecar started for this process outlives it, as an editor's does when the editor leaves
    /// (its own session; left, not shut down: it lingers while its sessions live). The ACP agent's;
    /// a CLI command's sidecar is shut down with it.
    /// </summary>
    public bool ChildLingers { get; init; }

    /// <summary>
    /// The sidecar to talk to: the one that owns <paramref name="sessionId"/> if it runs, else any
    /// running sidecar on this data directory, else (if <paramref name="startIfNone"/>) a new one.
    /// </summary>
    public async Task<CliConnection> ConnectAsync(string? sessionId, bool startIfNone = true)
    {
        if (sessionId is not null && OwnerOf(sessionId) is { } owner)
        {
            try
            {
                return await CliConnection.ConnectSocketAsync(owner.Socket, owner.Pid).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new CliUnavailableException($"session {sessionId} belongs to the sidecar (pid {owner.Pid}) at {owner.Socket}, which does not answer: {ex.Message}");
            }
        }

        foreach (var (pid, socket) in RunningSidecars())
        {
            try
            {
                return await CliConnection.ConnectSocketAsync(socket, pid).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                // A stale socket file, or a sidecar that stopped as we came (a lingering one with
                // nothing left to run): try the next one.
            }
        }

        if (!startIfNone)
        {
            throw new CliUnavailableException($"no sidecar is running on {DataDir}");
        }

        return await CliConnection.StartChildAsync(this).ConfigureAwait(false);
    }

    /// <summary>Sockets of sidecars on this data directory whose process still runs (<c>run/sidecar-PID.sock</c>).</summary>
    public IEnumerable<(int Pid, string Socket)> RunningSidecars()
    {
        var run = Path.Combine(DataDir, "run");
        if (!Directory.Exists(run))
        {
            yield break;
        }

        foreach (var path in Directory.EnumerateFiles(run, "sidecar-*.sock").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (int.TryParse(name.AsSpan("sidecar-".Length), out var pid) && ProcessInfo.TryGetStartTime(pid) is not null)
            {
                yield return (pid, path);
            }
        }
    }

    private (int Pid, string Socket)? OwnerOf(string sessionId)
    {
        var db = Path.Combine(DataDir, "sidecar.db");
        if (!File.Exists(db))
        {
            return null;
        }

        var row = SidecarStore.Open(db).GetSession(sessionId);
        return row is { Status: SessionStatuses.Created or SessionStatuses.Active, OwnerPid: { } pid, OwnerStart: { } start, OwnerSocket: { } socket }
            && pid != ProcessInfo.CurrentPid && ProcessInfo.IsAlive(pid, start) && File.Exists(socket)
            ? (pid, socket)
            : null;
    }

    /// <summary>Prints a result as indented JSON (for <c>--json</c>), in the wire's shape.</summary>
    public static void WriteJson<T>(T value, JsonTypeInfo<T> type) =>
        // Through a JsonElement, so event data (kept as the sidecar sent it) is indented like the rest.
        Console.Out.WriteLine(JsonSerializer.Serialize(JsonSerializer.SerializeToElement(value, type), CliJsonContext.Default.JsonElement));
}
