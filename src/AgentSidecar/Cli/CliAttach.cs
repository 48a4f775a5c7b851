using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.Cli;

/// <summary>
/// <c>agent-sidecar attach</c>: a live worker's terminal here. Draws its current screen, then passes
/// output through raw and keystrokes back; Ctrl+] detaches (the worker keeps running).
/// </summary>
internal sealed class CliAttach(CliContext context)
{
    /// <summary>Ctrl+] (like telnet): never typed into an agent otherwise.</summary>
    private const byte DetachKey = 0x1d;

    private readonly TaskCompletionSource<string> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private string? _attachId;
    private string _workerId = string.Empty;

    public async Task<int> RunAsync(string sessionId, string? workerId, CancellationToken cancellationToken)
    {
        await using var conn = await context.ConnectAsync(sessionId, startIfNone: false).ConfigureAwait(false);
        var session = await conn.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId }, cancellationToken).ConfigureAwait(false);
        var workers = session.GetProperty("workers").EnumerateArray().ToList();
        var worker = workerId is null
            ? workers.FirstOrDefault(w => CliCommands.Str(w, "kind") == "agent" && CliCommands.Str(w, "status") == "running")
            : workers.FirstOrDefault(w => CliCommands.Str(w, "id") == workerId);
        if (worker.ValueKind != JsonValueKind.Object || CliCommands.Str(worker, "status") != "running")
        {
            var status = CliCommands.Str(session, "status");
            throw new CliRpcException(1004, status == "suspended"
                ? $"session {sessionId} is suspended; resume it first: agent-sidecar sessions resume {sessionId}"
                : workerId is null ? $"session {sessionId} has no running agent" : $"worker {workerId} of session {sessionId} is not running", null);
        }

        _workerId = CliCommands.Str(worker, "id");
        conn.OnNotification = OnNotification;
        var screen = await conn.RequestAsync("worker/screen", new JsonObject { ["workerId"] = _workerId }, cancellationToken).ConfigureAwait(false);
        var attach = await conn.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sessionId, ["afterSeq"] = screen.GetProperty("seq").GetInt64(), ["channels"] = new JsonArray("pty") }, cancellationToken).ConfigureAwait(false);
        _attachId = CliCommands.Str(attach, "attachId");
        await Console.Error.WriteAsync($"[attached to {CliCommands.Str(worker, "name")} ({_workerId}) of session {sessionId}; Ctrl+] detaches]\r\n").ConfigureAwait(false);
        if (CliCommands.Str(screen, "ansi") is { Length: > 0 } ansi)
        {
            await WriteAsync(Encoding.UTF8.GetBytes(ansi)).ConfigureAwait(false);
        }

        var saved = RawMode();
        using var winch = Console.IsOutputRedirected ? null : PosixSignalRegistration.Create(PosixSignal.SIGWINCH, signal =>
        {
            _ = conn.RequestAsync("worker/resize", new JsonObject { ["workerId"] = _workerId, ["cols"] = Math.Max(2, Console.WindowWidth), ["rows"] = Math.Max(1, Console.WindowHeight) });
        });
        try
        {
            var input = Task.Run(() => PumpInputAsync(conn, cancellationToken), CancellationToken.None);
            var reason = await Task.WhenAny(_done.Task, input).ConfigureAwait(false) == _done.Task ? _done.Task.Result : await input.ConfigureAwait(false);
            Restore(saved);
            await Console.Error.WriteAsync($"\r\n[{reason}]\r\n").ConfigureAwait(false);
        }
        finally
        {
            Restore(saved);
        }

        try
        {
            await conn.RequestAsync("session/detach", new JsonObject { ["attachId"] = _attachId }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (CliRpcException)
        {
        }

        return ExitCodes.Ok;
    }

    private async Task<string> PumpInputAsync(CliConnection conn, CancellationToken cancellationToken)
    {
        var stdin = Console.OpenStandardInput();
        var decoder = Encoding.UTF8.GetDecoder();
        var buffer = new byte[4096];
        var chars = new char[4096];
        while (!_done.Task.IsCompleted)
        {
            var n = await stdin.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return $"input ended; detached from {_workerId} (it keeps running)";
            }

            var detach = Array.IndexOf(buffer, DetachKey, 0, n);
            var count = decoder.GetChars(buffer, 0, detach >= 0 ? detach : n, chars, 0);
            if (count > 0)
            {
                await conn.RequestAsync("worker/input", new JsonObject { ["workerId"] = _workerId, ["data"] = new string(chars, 0, count) }, cancellationToken).ConfigureAwait(false);
            }

            if (detach >= 0)
            {
                return $"detached from {_workerId} (it keeps running)";
            }
        }

        return await _done.Task.ConfigureAwait(false);
    }

    private void OnNotification(string method, JsonElement p)
    {
        if (method == "session/detached" && CliCommands.Str(p, "attachId") == _attachId)
        {
            _done.TrySetResult($"the sidecar detached this terminal ({CliCommands.Str(p, "reason")})");
            return;
        }

        if (method != "session/event" || CliCommands.Str(p, "attachId") != _attachId)
        {
            return;
        }

        var e = p.GetProperty("event");
        if (CliCommands.Str(e, "workerId") != _workerId)
        {
            return;
        }

        switch (CliCommands.Str(e, "type"))
        {
            case "output":
                WriteAsync(Encoding.UTF8.GetBytes(CliCommands.Str(e.GetProperty("data"), "data"))).GetAwaiter().GetResult();
                break;
            case "exit":
                var data = e.GetProperty("data");
                _done.TrySetResult(CliCommands.Str(data, "signal") is { Length: > 0 } sig ? $"the worker was ended by signal {sig}" : $"the worker exited with code {CliCommands.Str(data, "exitCode")}");
                break;
        }
    }

    private async Task WriteAsync(byte[] bytes)
    {
        await _stdout.WriteAsync(bytes).ConfigureAwait(false);
        await _stdout.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Puts the terminal in raw mode (keys go through as typed); returns what to restore, or null when stdin is no terminal.</summary>
    private static string? RawMode()
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        var saved = Stty("-g");
        return Stty("raw", "-echo") is null ? null : saved;
    }

    private static void Restore(string? saved)
    {
        if (saved is not null)
        {
            _ = Stty(saved);
        }
    }

    private static string? Stty(params string[] args)
    {
        var psi = new ProcessStartInfo("stty") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
