using System.Text;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Events;
using AgentSidecar.Protocol;

namespace AgentSidecar.Cli;

/// <summary>What <c>agent-sidecar chat</c> was asked for (docs/cli.md).</summary>
internal sealed record ChatOptions(string Provider, string? Model, string Workspace, string? Task, string? Resume, string Approve)
{
    /// <summary><c>--worktree</c>: the session runs in a new git worktree of the workspace (<c>kind: "worktree"</c>).</summary>
    public bool Worktree { get; init; }
}

/// <summary>
/// <c>agent-sidecar chat</c>: a line-based chat with an agent session. Answers stream in as the
/// session's chat deltas arrive, with the turn's tool calls, plan and approvals between them
/// (<see cref="TurnItemPrinter"/>); a spinner shows on a terminal while the agent works. Every line
/// goes to <c>chat/send</c>: the sidecar knows the provider's clear command (<c>/clear</c>, Auggie's
/// <c>/new</c>) and answers it with <c>status:"cleared"</c> and the new session. Approvals of the
/// turns it sends are answered as <c>--approve</c> says (<see cref="ChatApprovals"/>).
/// </summary>
internal sealed class CliChat(CliContext context)
{
    private const string Prompt = "› ";
    private const int SpinnerMilliseconds = 100;

    /// <summary>A terminal narrower than this (or one that does not say) is printed for as if it were a pipe's 240 columns.</summary>
    private const int MinWidth = 20;

    private readonly object _lock = new();
    private readonly StringBuilder _streamed = new();
    private readonly ChatConsole _console = new(Console.Out, Console.Error, new TurnItemPrinter(Style()));
    private string? _attachId;
    private string _sessionId = string.Empty;
    private ChatApprovals? _approvals;
    private volatile bool _ourTurn;

    public async Task<int> RunAsync(ChatOptions options, CancellationToken cancellationToken)
    {
        var (provider, model, workspace, task, resume, approve) = options;
        await using var conn = await context.ConnectAsync(resume).ConfigureAwait(false);
        Session session;
        if (resume is not null)
        {
            session = await conn.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = resume }, cancellationToken).ConfigureAwait(false);
            // Suspended: resumed. Ended (its agent exited, crashed, was quit or ended): continued on
            // its conversation; the sidecar answers 1004 saying why when there is none to continue.
            if (session.Status is not (SessionStatuses.Active or SessionStatuses.Created))
            {
                var verb = session.Status == SessionStatuses.Suspended ? "Resuming" : "Continuing";
                session = await CliCommands.WithProgressAsync(context, $"{verb} session {resume}…", () => conn.RequestAsync(CliProtocol.SessionResume, new SessionIdParams { SessionId = resume }, cancellationToken)).ConfigureAwait(false);
            }
        }
        else
        {
            var start = new SessionStartParams { Workspace = workspace, Provider = provider, Model = model, TaskId = task, Kind = options.Worktree ? "worktree" : null };
            var what = options.Worktree ? $"Creating a git worktree of {workspace} and starting {provider} in it…" : $"Starting {provider} in {workspace}…";
            session = await CliCommands.WithProgressAsync(context, what, () => conn.RequestAsync(CliProtocol.SessionStart, start, cancellationToken)).ConfigureAwait(false);
        }

        if (session.Worktree is { } worktree)
        {
            // Where the agent's edits land: the user reviews, commits or merges them from there.
            await Console.Error.WriteLineAsync($"Worktree: {worktree.Path} (branch {worktree.Branch}). When the session ends it is removed if it has no uncommitted changes, else kept.").ConfigureAwait(false);
        }

        _sessionId = session.Id;
        if (session.Status is not (SessionStatuses.Active or SessionStatuses.Created))
        {
            throw new CliRpcException(ErrorCodes.InvalidState, $"session {_sessionId} did not start: {session.StatusReason}", null);
        }

        var input = new ConsoleLines(Console.In);
        _approvals = new ChatApprovals(conn, _console, input, approve, inputEchoed: !Console.IsInputRedirected);
        conn.On(CliProtocol.SessionEvent, OnEvent);
        conn.On(CliProtocol.SessionTransitioned, OnTransitioned);
        var attach = await conn.RequestAsync(CliProtocol.SessionAttach, new SessionAttachParams { SessionId = _sessionId, AfterSeq = session.LastSeq, Channels = [Channels.Chat, Channels.System] }, cancellationToken).ConfigureAwait(false);
        _attachId = attach.AttachId;
        await Console.Error.WriteLineAsync($"Session {_sessionId} ({session.Provider}) via {conn.Description}. Type a message; the agent's clear command (e.g. /clear, or /new for Auggie) starts a new conversation, /exit (or Ctrl+D) leaves. Approvals: {approve} (--approve).").ConfigureAwait(false);

        while (!cancellationToken.IsCancellationRequested)
        {
            if (!Console.IsInputRedirected)
            {
                _console.Prompt(Prompt);
            }

            var line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (!Console.IsInputRedirected)
            {
                // The terminal echoed the line (or Ctrl+D ended it without one).
                _console.PromptAnswered(echoed: line is not null);
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
            sessionId = _sessionId;
        }

        var spin = !Console.IsErrorRedirected;
        if (spin)
        {
            _console.StartSpinner();
        }

        using var spinner = spin ? new Timer(_ => _console.Spin(), null, 0, SpinnerMilliseconds) : null;
        ChatSendResult result;

        // A session runs one turn at a time: while this chat/send runs, its approvals are this turn's.
        _ourTurn = true;
        try
        {
            var send = conn.RequestAsync(CliProtocol.ChatSend, new ChatSendParams { SessionId = sessionId, Text = text }, cancellationToken);
            await _approvals!.AnswerUntilAsync(sessionId, send, cancellationToken).ConfigureAwait(false);
            result = await send.ConfigureAwait(false);
        }
        finally
        {
            _ourTurn = false;
            _console.StopSpinner();
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

        if (Unshown(streamed, answer) is { } rest)
        {
            if (!rest.Continues)
            {
                _console.EndLine();
            }

            _console.Text(rest.Text);
        }

        _console.EndLine();

        if (result.Status != TurnStatuses.Completed)
        {
            _console.Warn($"[turn {result.Status}{(result.Reason is { Length: > 0 } r ? $": {r}" : string.Empty)}]");
        }
    }

    /// <summary>
    /// What of the final answer the streamed deltas did not show: null for nothing; Continues when
    /// it goes on right where the streamed text stopped. The deltas come from the screen; the final
    /// answer (from the transcript, or the screen once the turn is over) is the true one. Problem:
    /// it often goes on where the deltas stopped (the last lines appear as the turn ends), and
    /// printing it whole showed the streamed part twice. Solution: when it begins with what was
    /// streamed, only the rest; when it differs, all of it, on a line of its own.
    /// </summary>
    internal static (string Text, bool Continues)? Unshown(string streamed, string answer)
    {
        var shown = streamed.Trim();
        if (shown.Length == 0)
        {
            return (answer, false);
        }

        var whole = answer.Trim();
        if (whole == shown)
        {
            return null;
        }

        if (!whole.StartsWith(shown, StringComparison.Ordinal))
        {
            return (answer, false);
        }

        // The spaces and line breaks streamed after the text were printed with it.
        var rest = whole[shown.Length..];
        var printed = streamed.TrimStart()[shown.Length..];
        if (rest.StartsWith(printed, StringComparison.Ordinal))
        {
            rest = rest[printed.Length..];
        }
        else
        {
            var breaks = printed.Count(c => c == '\n');
            var skip = 0;
            while (skip < rest.Length && skip < breaks && rest[skip] == '\n')
            {
                skip++;
            }

            rest = rest[skip..];
        }

        return (rest, true);
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

            // A clear typed elsewhere while the prompt waits: the line goes below it, then the prompt again.
            _console.Lines([$"──── conversation cleared: new session {currentId} ────"]);
        }
    }

    private void OnTransitioned(SessionTransitionedParams p) => MoveOn(p.Previous.Id, p.Current.Id);

    private void OnEvent(SessionEventParams p)
    {
        if (p.AttachId != _attachId || p.Event is not { Channel: Channels.Chat } e)
        {
            return;
        }

        switch (e.Type)
        {
            case EventTypes.Delta:
                var delta = CliProtocol.Payload(e, CliJsonContext.Default.ChatDeltaData)?.Text ?? string.Empty;
                lock (_lock)
                {
                    _streamed.Append(delta);
                }

                _console.Text(delta);
                break;
            case EventTypes.Tool when CliProtocol.Payload(e, CliJsonContext.Default.ChatToolData) is { } tool:
                _console.Print(printer => printer.Tool(tool));
                break;
            case EventTypes.Plan when CliProtocol.Payload(e, CliJsonContext.Default.ChatPlanData) is { } plan:
                _console.Print(printer => printer.Plan(plan));
                break;
            case EventTypes.Approval when CliProtocol.Payload(e, CliJsonContext.Default.ChatApprovalData) is { } approval:
                _approvals?.OnApproval(approval, _ourTurn);
                break;
        }
    }

    /// <summary>The plain-output rule of docs/cli.md: markers and colours on a terminal (colours not with NO_COLOR), plain text in pipes.</summary>
    private static ChatStyle Style()
    {
        if (Console.IsOutputRedirected)
        {
            return ChatStyle.Plain;
        }

        int width;
        try
        {
            width = Console.WindowWidth;
        }
        catch (IOException)
        {
            width = 0;
        }

        return new ChatStyle(Unicode: true, Color: string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")), width >= MinWidth ? width : ChatStyle.PipeWidth);
    }
}
