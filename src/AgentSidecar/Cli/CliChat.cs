using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.Cli;

/// <summary>
/// <c>agent-sidecar chat</c>: a line-based chat with an agent session. Answers stream in as the
/// session's chat deltas arrive; a spinner shows on a terminal while the agent works.
/// </summary>
internal sealed class CliChat(CliContext context)
{
    private readonly object _lock = new();
    private readonly StringBuilder _streamed = new();
    private string? _attachId;
    private string _sessionId = string.Empty;
    private bool _spinning;

    public async Task<int> RunAsync(string provider, string? model, string workspace, string? task, string? resume, CancellationToken cancellationToken)
    {
        await using var conn = await context.ConnectAsync(resume).ConfigureAwait(false);
        JsonElement session;
        if (resume is not null)
        {
            session = await conn.RequestAsync("session/get", new JsonObject { ["sessionId"] = resume }, cancellationToken).ConfigureAwait(false);
            var status = CliCommands.Str(session, "status");
            if (status == "suspended")
            {
                session = await CliCommands.WithProgressAsync(context, $"Resuming session {resume}…", () => conn.RequestAsync("session/resume", new JsonObject { ["sessionId"] = resume }, cancellationToken)).ConfigureAwait(false);
            }
            else if (status is not ("active" or "created"))
            {
                throw new CliRpcException(1004, $"session {resume} is {status}; start a new one with: agent-sidecar chat --provider {CliCommands.Str(session, "provider")}", null);
            }
        }
        else
        {
            var start = new JsonObject { ["workspace"] = workspace, ["provider"] = provider };
            if (model is not null)
            {
                start["model"] = model;
            }

            if (task is not null)
            {
                start["taskId"] = task;
            }

            session = await CliCommands.WithProgressAsync(context, $"Starting {provider} in {workspace}…", () => conn.RequestAsync("session/start", start, cancellationToken)).ConfigureAwait(false);
        }

        _sessionId = CliCommands.Str(session, "id");
        if (CliCommands.Str(session, "status") is not ("active" or "created"))
        {
            throw new CliRpcException(1004, $"session {_sessionId} did not start: {CliCommands.Str(session, "statusReason")}", null);
        }

        conn.OnNotification = OnNotification;
        var attach = await conn.RequestAsync("session/attach", new JsonObject { ["sessionId"] = _sessionId, ["afterSeq"] = session.GetProperty("lastSeq").GetInt64(), ["channels"] = new JsonArray("chat", "system") }, cancellationToken).ConfigureAwait(false);
        _attachId = CliCommands.Str(attach, "attachId");
        await Console.Error.WriteLineAsync($"Session {_sessionId} ({CliCommands.Str(session, "provider")}) via {conn.Description}. Type a message; /clear starts a new conversation, /exit (or Ctrl+D) leaves.").ConfigureAwait(false);

        while (!cancellationToken.IsCancellationRequested)
        {
            if (!Console.IsInputRedirected)
            {
                await Console.Out.WriteAsync("› ").ConfigureAwait(false);
            }

            var line = await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null || line.Trim() is "/exit" or "/quit")
            {
                break;
            }

            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (line.Trim() == "/clear")
            {
                var cleared = await conn.RequestAsync("session/clear", new JsonObject { ["sessionId"] = _sessionId }, cancellationToken).ConfigureAwait(false);
                _sessionId = CliCommands.Str(cleared.GetProperty("current"), "id");
                await Console.Out.WriteLineAsync($"──── conversation cleared: new session {_sessionId} ────").ConfigureAwait(false);
                continue;
            }

            await SendAsync(conn, line, cancellationToken).ConfigureAwait(false);
        }

        if (_attachId is not null)
        {
            try
            {
                await conn.RequestAsync("session/detach", new JsonObject { ["attachId"] = _attachId }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (CliRpcException)
            {
                // The attachment already ended (the session ended).
            }
        }

        if (conn.OwnsSidecar)
        {
            await Console.Error.WriteLineAsync($"Session {_sessionId} is being suspended; continue it with: agent-sidecar chat --resume {_sessionId}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    private async Task SendAsync(CliConnection conn, string text, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _streamed.Clear();
            _spinning = !Console.IsErrorRedirected;
        }

        using var spinner = _spinning ? new Timer(_ => Spin(), null, 0, 100) : null;
        JsonElement result;
        try
        {
            result = await conn.RequestAsync("chat/send", new JsonObject { ["sessionId"] = _sessionId, ["text"] = text }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            StopSpinner();
        }

        // The session may have moved on (a /clear typed meanwhile): follow it.
        if (CliCommands.Str(result, "sessionId") is { Length: > 0 } sid)
        {
            _sessionId = sid;
        }

        var answer = CliCommands.Str(result, "text");
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

        if (CliCommands.Str(result, "status") is var status and not "completed")
        {
            await Console.Error.WriteLineAsync($"[turn {status}{(CliCommands.Str(result, "reason") is { Length: > 0 } r ? $": {r}" : string.Empty)}]").ConfigureAwait(false);
        }
    }

    private void OnNotification(string method, JsonElement p)
    {
        if (method != "session/event" || CliCommands.Str(p, "attachId") != _attachId)
        {
            return;
        }

        var e = p.GetProperty("event");
        if (CliCommands.Str(e, "channel") == "chat" && CliCommands.Str(e, "type") == "delta")
        {
            var delta = CliCommands.Str(e.GetProperty("data"), "text");
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

    private int _frame;

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
