using System.Text;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Events;
using AgentSidecar.Protocol;

namespace AgentSidecar.Cli;

/// <summary>
/// <c>agent-sidecar chat</c>: a line-based chat with an agent session. Answers stream in as the
/// session's chat deltas arrive; a spinner shows on a terminal while the agent works. Every line
/// goes to <c>chat/send</c>: the sidecar knows the provider's clear command (<c>/clear</c>, Auggie's
/// <c>/new</c>) and answers it with <c>status:"cleared"</c> and the new session.
/// </summary>
internal sealed class CliChat(CliContext context)
{
    private const string Prompt = "› ";

    private readonly object _lock = new();
    private readonly StringBuilder _streamed = new();
    private string? _attachId;
    private string _sessionId = string.Empty;
    private bool _spinning;
    private bool _prompting;
    private int _frame;

    public async Task<int> RunAsync(string provider, string? model, string workspace, string? task, string? resume, CancellationToken cancellationToken)
    {
        await using var conn = await context.ConnectAsync(resume).ConfigureAwait(false);
        Session session;
        if (resume is not null)
        {
            session = await conn.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = resume }, cancellationToken).ConfigureAwait(false);
            if (session.Status == SessionStatuses.Suspended)
            {
                session = await CliCommands.WithProgressAsync(context, $"Resuming session {resume}…", () => conn.RequestAsync(CliProtocol.SessionResume, new SessionIdParams { SessionId = resume }, cancellationToken)).ConfigureAwait(false);
            }
            else if (session.Status is not (SessionStatuses.Active or SessionStatuses.Created))
            {
                throw new CliRpcException(ErrorCodes.InvalidState, $"session {resume} is {session.Status}; start a new one with: agent-sidecar chat --provider {session.Provider}", null);
            }
        }
        else
        {
            var start = new SessionStartParams { Workspace = workspace, Provider = provider, Model = model, TaskId = task };
            session = await CliCommands.WithProgressAsync(context, $"Starting {provider} in {workspace}…", () => conn.RequestAsync(CliProtocol.SessionStart, start, cancellationToken)).ConfigureAwait(false);
        }

        _sessionId = session.Id;
        if (session.Status is not (SessionStatuses.Active or SessionStatuses.Created))
        {
            throw new CliRpcException(ErrorCodes.InvalidState, $"session {_sessionId} did not start: {session.StatusReason}", null);
        }

        conn.On(CliProtocol.SessionEvent, OnEvent);
        conn.On(CliProtocol.SessionTransitioned, OnTransitioned);
        var attach = await conn.RequestAsync(CliProtocol.SessionAttach, new SessionAttachParams { SessionId = _sessionId, AfterSeq = session.LastSeq, Channels = [Channels.Chat, Channels.System] }, cancellationToken).ConfigureAwait(false);
        _attachId = attach.AttachId;
        await Console.Error.WriteLineAsync($"Session {_sessionId} ({session.Provider}) via {conn.Description}. Type a message; the agent's clear command (e.g. /clear, or /new for Auggie) starts a new conversation, /exit (or Ctrl+D) leaves.").ConfigureAwait(false);

        while (!cancellationToken.IsCancellationRequested)
        {
            if (!Console.IsInputRedirected)
            {
                lock (_lock)
                {
                    _prompting = true;
                    Console.Out.Write(Prompt);
                }
            }

            var line = await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _prompting = false;
            }

            if (line is null || line.Trim() is "/exit" or "/quit")
            {
                break;
            }

            if (line.Trim().Length == 0)
            {
                continue;
            }

            await SendAsync(conn, line, cancellationToken).ConfigureAwait(false);
        }

        if (_attachId is not null)
        {
            try
            {
                await conn.RequestAsync(CliProtocol.SessionDetach, new SessionDetachParams { AttachId = _attachId }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (CliRpcException)
            {
                // The attachment already ended (the session ended).
            }
        }

        var last = CurrentSessionId;
        if (conn.OwnsSidecar)
        {
            await Console.Error.WriteLineAsync($"Session {last} is being suspended; continue it with: agent-sidecar chat --resume {last}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    private string CurrentSessionId
    {
        get
        {
            lock (_lock)
            {
                return _sessionId;
            }
        }
    }

    private async Task SendAsync(CliConnection conn, string text, CancellationToken cancellationToken)
    {
        string sessionId;
        lock (_lock)
        {
            _streamed.Clear();
            _spinning = !Console.IsErrorRedirected;
            sessionId = _sessionId;
        }

        using var spinner = _spinning ? new Timer(_ => Spin(), null, 0, 100) : null;
        ChatSendResult result;
        try
        {
            result = await conn.RequestAsync(CliProtocol.ChatSend, new ChatSendParams { SessionId = sessionId, Text = text }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            StopSpinner();
        }

        if (result.Status == TurnStatuses.Cleared)
        {
            // The text was the agent's clear command: no turn, the conversation goes on in a new session.
            if (result.SessionId is { Length: > 0 } next)
            {
                MoveOn(result.PreviousSessionId ?? sessionId, next);
            }

            return;
        }

        // The session may have moved on (a clear typed meanwhile, elsewhere): follow it.
        if (result.SessionId is { Length: > 0 } sid)
        {
            lock (_lock)
            {
                _sessionId = sid;
            }
        }

        var answer = result.Text;
        string streamed;
        lock (_lock)
        {
            streamed = _streamed.ToString();
            _streamed.Clear();
        }

        if (streamed.Length == 0)
        {
            await Console.Out.WriteLineAsync(answer).ConfigureAwait(false);
        }
        else if (streamed.Trim() != answer.Trim())
        {
            // The deltas came from the screen; the final answer (from the transcript) is the true one.
            await Console.Out.WriteLineAsync().ConfigureAwait(false);
            await Console.Out.WriteLineAsync(answer).ConfigureAwait(false);
        }
        else
        {
            await Console.Out.WriteLineAsync().ConfigureAwait(false);
        }

        if (result.Status != TurnStatuses.Completed)
        {
            await Console.Error.WriteLineAsync($"[turn {result.Status}{(result.Reason is { Length: > 0 } r ? $": {r}" : string.Empty)}]").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A clear moved <paramref name="previousId"/> on to <paramref name="currentId"/>: chat there from
    /// now on and say so, once (both the <c>chat/send</c> result and <c>session/transitioned</c> tell it).
    /// </summary>
    private void MoveOn(string previousId, string currentId)
    {
        lock (_lock)
        {
            if (_sessionId != previousId)
            {
                return;
            }

            _sessionId = currentId;
            if (_spinning)
            {
                Console.Error.Write("\r\u001b[K");
            }

            // A clear typed elsewhere while the prompt waits: the line goes below it, then a new prompt.
            Console.Out.WriteLine($"{(_prompting ? Environment.NewLine : string.Empty)}──── conversation cleared: new session {currentId} ────");
            if (_prompting)
            {
                Console.Out.Write(Prompt);
            }
        }
    }

    private void OnTransitioned(SessionTransitionedParams p) => MoveOn(p.Previous.Id, p.Current.Id);

    private void OnEvent(SessionEventParams p)
    {
        if (p.AttachId != _attachId)
        {
            return;
        }

        var e = p.Event;
        if (e.Channel == Channels.Chat && e.Type == EventTypes.Delta)
        {
            var delta = CliProtocol.Payload(e, CliJsonContext.Default.ChatDeltaData)?.Text ?? string.Empty;
            lock (_lock)
            {
                if (_spinning)
                {
                    _spinning = false;
                    Console.Error.Write("\r\u001b[K");
                }

                _streamed.Append(delta);
                Console.Out.Write(delta);
            }
        }
    }

    private void Spin()
    {
        lock (_lock)
        {
            if (_spinning)
            {
                const string frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
                Console.Error.Write($"\r{frames[_frame++ % frames.Length]} working…");
            }
        }
    }

    private void StopSpinner()
    {
        lock (_lock)
        {
            if (_spinning)
            {
                _spinning = false;
                Console.Error.Write("\r\u001b[K");
            }
        }
    }
}
