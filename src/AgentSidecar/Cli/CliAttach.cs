using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using AgentSidecar.Core.Events;
using AgentSidecar.Protocol;

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
        var session = await conn.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = sessionId }, cancellationToken).ConfigureAwait(false);
        var worker = workerId is null
            ? session.Workers.FirstOrDefault(w => w.Kind == Store.WorkerKinds.Agent && w.Status == Store.WorkerStatuses.Running)
            : session.Workers.FirstOrDefault(w => w.Id == workerId);
        if (worker is not { Status: Store.WorkerStatuses.Running })
        {
            throw new CliRpcException(ErrorCodes.InvalidState, session.Status == SessionStatuses.Suspended
                ? $"session {sessionId} is suspended; resume it first: agent-sidecar sessions resume {sessionId}"
                : workerId is null ? $"session {sessionId} has no running agent" : $"worker {workerId} of session {sessionId} is not running", null);
        }

        _workerId = worker.Id;
        conn.On(CliProtocol.SessionDetached, OnDetached);
        conn.On(CliProtocol.SessionEvent, OnEvent);
        var screen = await conn.RequestAsync(CliProtocol.WorkerScreen, new WorkerIdParams { WorkerId = _workerId }, cancellationToken).ConfigureAwait(false);
        var attach = await conn.RequestAsync(CliProtocol.SessionAttach, new SessionAttachParams { SessionId = sessionId, AfterSeq = screen.Seq, Channels = [Channels.Pty] }, cancellationToken).ConfigureAwait(false);
        _attachId = attach.AttachId;
        await Console.Error.WriteAsync($"[attached to {worker.Name} ({_workerId}) of session {sessionId}; Ctrl+] detaches]\r\n").ConfigureAwait(false);
        if (screen.Ansi is { Length: > 0 } ansi)
        {
            await WriteAsync(Encoding.UTF8.GetBytes(ansi)).ConfigureAwait(false);
        }

        var saved = RawMode();
        using var winch = Console.IsOutputRedirected ? null : PosixSignalRegistration.Create(PosixSignal.SIGWINCH, signal =>
        {
            _ = conn.RequestAsync(CliProtocol.WorkerResize, new WorkerResizeParams { WorkerId = _workerId, Cols = Math.Max(SessionStartParams.MinCols, Console.WindowWidth), Rows = Math.Max(SessionStartParams.MinRows, Console.WindowHeight) });
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
            await conn.RequestAsync(CliProtocol.SessionDetach, new SessionDetachParams { AttachId = _attachId }, CancellationToken.None).ConfigureAwait(false);
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
                await conn.RequestAsync(CliProtocol.WorkerInput, new WorkerInputParams { WorkerId = _workerId, Data = new string(chars, 0, count) }, cancellationToken).ConfigureAwait(false);
            }

            if (detach >= 0)
            {
                return $"detached from {_workerId} (it keeps running)";
            }
        }

        return await _done.Task.ConfigureAwait(false);
    }

    private void OnDetached(SessionDetachedParams p)
    {
        if (p.AttachId == _attachId)
        {
            _done.TrySetResult($"the sidecar detached this terminal ({p.Reason})");
        }
    }

    private void OnEvent(SessionEventParams p)
    {
        var e = p.Event;
        if (p.AttachId != _attachId || e.WorkerId != _workerId || e.Channel != Channels.Pty)
        {
            return;
        }

        switch (e.Type)
        {
            case EventTypes.Output:
                WriteAsync(Encoding.UTF8.GetBytes(CliProtocol.Payload(e, CliJsonContext.Default.OutputData)?.Data ?? string.Empty)).GetAwaiter().GetResult();
                break;
            case EventTypes.Exit:
                var exit = CliProtocol.Payload(e, CliJsonContext.Default.ExitData);
                _done.TrySetResult(exit?.Signal is { } sig ? $"the worker was ended by signal {sig}" : $"the worker exited with code {exit?.ExitCode}");
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
