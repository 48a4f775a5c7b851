using System.Text;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// The one way in for text typed into an agent: keys from a terminal (<c>worker/input</c>, the CLI's
/// attach) and messages (<c>chat/send</c>, the CLI's chat, the ACP door all send those). It knows the
/// agent's clear command, so a clear from any of them is a transition, and it keeps chat text from
/// ever acting as keys.
/// </summary>
internal sealed class AgentInput(SessionContext ctx, SessionTransitions transitions)
{
    /// <summary>Keys typed into a worker's terminal, as they are; a submitted clear command starts a transition.</summary>
    /// <summary>
    /// Keys for a worker. Keys for an agent whose approval prompt appeared less than its
    /// <c>settleMilliseconds</c> ago are held until then: agents drop keys that come right after
    /// their prompt (Claude Code within ~0.5 s; Codex when Enter came with the message at once).
    /// </summary>
    public async Task KeysAsync(string workerId, string data)
    {
        if (ctx.Registry.TryGetWorker(workerId, out var live) && live.Row.Kind == Store.WorkerKinds.Agent
            && live.Session?.Chat?.ApprovalSettleRemaining is { } wait && wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, ctx.Clock).ConfigureAwait(false);
        }

        Keys(workerId, data);
    }

    public void Keys(string workerId, string data)
    {
        var bytes = Encoding.UTF8.GetBytes(data);
        if (bytes.Length > SidecarOptions.MaxInputBytes)
        {
            throw new SidecarException(SidecarError.PayloadTooLarge, $"input of {bytes.Length} bytes exceeds the limit of {SidecarOptions.MaxInputBytes} bytes; send it in parts");
        }

        var worker = ctx.Registry.GetLiveWorker(workerId, ctx.Store);
        var generation = worker.Session?.Generation ?? 0;

        // Noted before they are written: the agent may take the prompt away before Write returns,
        // and the answer must be known by then.
        if (worker.Row.Kind == Store.WorkerKinds.Agent)
        {
            worker.Session?.Chat?.NoteKeys(data);
        }

        if (!worker.Process!.Write(bytes, PtyProcess.MaxPendingInputBytes))
        {
            throw new SidecarException(
                SidecarError.PayloadTooLarge,
                $"worker {workerId} is not reading its input: {worker.Process.PendingInputBytes} bytes are still waiting (the limit is {PtyProcess.MaxPendingInputBytes}); send more when it has read them",
                new Dictionary<string, object?> { ["pendingBytes"] = worker.Process.PendingInputBytes });
        }

        var now = ctx.Now();
        worker.LastInputAt = now;

        worker.Session?.Touch(now);
        WatchForClear(worker, data, generation);
    }

    /// <summary>
    /// Checks a chat message before anything is recorded or typed. Problem: the message is typed
    /// inside a bracketed paste, so an escape sequence in it could end the paste early and the rest
    /// would reach the agent as keys (a <c>/clear</c>, an approval). Solution: control characters
    /// other than tab and line breaks are refused (-32602 naming <c>text</c>); nothing is stripped
    /// silently, so what the agent gets is what the user wrote.
    /// </summary>
    public static void ValidateMessage(string text)
    {
        if (Encoding.UTF8.GetByteCount(text) > SidecarOptions.MaxInputBytes)
        {
            throw new SidecarException(SidecarError.PayloadTooLarge, $"the message is over {SidecarOptions.MaxInputBytes} bytes; attach large content as a file instead");
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '\t' or '\n' or '\r' || !(char.IsControl(c)))
            {
                continue;
            }

            throw new SidecarException(
                SidecarError.InvalidArgument,
                $"text holds the control character U+{(int)c:X4} at index {i}; chat messages may hold tab and line breaks but no other control characters or escape sequences (type keys with worker/input)",
                new Dictionary<string, object?> { ["field"] = "text", ["index"] = i });
        }
    }

    /// <summary>Whether a chat message is the provider's clear command (then it is a clear, not a turn).</summary>
    public static bool IsClearCommand(LiveSession live, string text) =>
        live.Profile?.Clear is { } clear && text.Trim() == clear.Command;

    private void WatchForClear(LiveWorker worker, string data, int generation)
    {
        // The worker's own session object (its id changes with each clear; the object does not).
        if (worker.Row.Kind != Store.WorkerKinds.Agent || worker.Session is not { } live || live.Profile?.Clear is not { } clear)
        {
            return;
        }

        worker.TypedLine ??= new TypedLine();
        if (worker.TypedLine.Feed(data).Any(line => line == clear.Command))
        {
            transitions.Observed(live, TransitionTriggers.Terminal, generation);
        }
    }
}
