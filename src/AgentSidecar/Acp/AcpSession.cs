using System.Threading.Channels;
using AgentSidecar.Cli;
using AgentSidecar.Protocol;

namespace AgentSidecar.Acp;

/// <summary>
/// One ACP session: a managed session of the sidecar, followed along its <c>/clear</c> chain. The ACP
/// session id stays the id the client was given (the managed session it named when it was created or
/// loaded); <see cref="CurrentId"/> is the newest session of the chain, where prompts go. One
/// attachment (chat channel, which reads on across transitions) feeds the running turn.
/// </summary>
internal sealed class AcpSession : IAsyncDisposable
{
    /// <summary>How long a prompt's result waits for the last events of its turn (normally milliseconds; see <see cref="AcpTurn.WaitForEventsAsync"/>).</summary>
    private static readonly TimeSpan EventGrace = TimeSpan.FromSeconds(3);

    private readonly object _lock = new();
    private readonly SidecarLink _link;
    private readonly IAcpClient _client;
    private readonly TextWriter _log;
    private readonly AcpTurnItems _items;
    private readonly string _workspace;
    private string _currentId;
    private string _provider;
    private string? _model;
    private bool _switching;
    private string? _attachId;
    private (string SessionId, long Seq) _lastSeen;
    private Task _reader = Task.CompletedTask;
    private AcpTurn? _turn;

    public AcpSession(string acpId, Session current, SidecarLink link, IAcpClient client, TextWriter log)
    {
        AcpId = acpId;
        _provider = current.Provider;
        _model = current.Model;
        _workspace = current.Workspace;
        _currentId = current.Id;
        _link = link;
        _client = client;
        _log = log;
        _items = new AcpTurnItems(current.Workspace);
        _link.Transitioned += OnTransitioned;
    }

    public string AcpId { get; }

    /// <summary>The sidecar connection the session's requests go over.</summary>
    public SidecarLink Link => _link;

    /// <summary>The agent of <see cref="CurrentId"/> (a config option can change it).</summary>
    public string Provider
    {
        get
        {
            lock (_lock)
            {
                return _provider;
            }
        }
    }

    /// <summary>The model <see cref="CurrentId"/> was started with; null: the agent's default.</summary>
    public string? Model
    {
        get
        {
            lock (_lock)
            {
                return _model;
            }
        }
    }

    /// <summary>The session of the chain prompts go to now.</summary>
    public string CurrentId
    {
        get
        {
            lock (_lock)
            {
                return _currentId;
            }
        }
    }

    /// <summary>Starts reading the chat events of <see cref="CurrentId"/> after <paramref name="afterSeq"/>.</summary>
    public async Task StartAsync(long afterSeq, CancellationToken cancellationToken)
    {
        var current = CurrentId;
        _lastSeen = (current, afterSeq);
        var (attachId, events) = await _link.AttachAsync(current, afterSeq, OnDetached, cancellationToken).ConfigureAwait(false);
        _attachId = attachId;
        _reader = ReadAsync(events);
    }

    /// <summary>The slash commands a client can offer: the clear (Auggie's is <c>/new</c>, both are taken).</summary>
    public Task AnnounceCommandsAsync() =>
        _client.UpdateAsync(AcpId, new AvailableCommandsUpdate(
        [
            new AvailableCommand("clear", "Start a new conversation with the agent (its context is cleared; this session goes on)."),
        ]));

    public async Task<PromptResponse> PromptAsync(PromptRequest request)
    {
        var text = AcpPromptText.From(request.Prompt, Provider);
        AcpTurn turn;
        lock (_lock)
        {
            if (_turn is not null)
            {
                throw AcpErrors.PromptRunning(AcpId);
            }

            if (_switching)
            {
                throw AcpErrors.Busy(AcpId, "its agent or model is being changed; send the prompt once session/set_config_option has answered");
            }

            turn = new AcpTurn(AcpId, () => CurrentId, _link, _client, _items, _log);
            _turn = turn;
        }

        try
        {
            if (IsClear(text))
            {
                await ClearAsync().ConfigureAwait(false);
                return new PromptResponse(StopReasons.EndTurn);
            }

            var result = await SendAsync(text).ConfigureAwait(false);
            await turn.WaitForEventsAsync(result.TurnId, EventGrace).ConfigureAwait(false);
            if (result.Status == Core.Chat.TurnStatuses.Cleared && result.SessionId is { } next)
            {
                Follow(result.PreviousSessionId ?? CurrentId, next);
                return new PromptResponse(StopReasons.EndTurn);
            }

            await turn.FinishTextAsync(result.Text).ConfigureAwait(false);
            if (turn.Cancelling || result.Status == Core.Chat.TurnStatuses.Cancelled)
            {
                return new PromptResponse(StopReasons.Cancelled);
            }

            return result.Status == Core.Chat.TurnStatuses.Failed
                ? throw AcpErrors.TurnFailed(AcpId, result.Reason ?? "the agent gave no reason")
                : new PromptResponse(StopReasons.EndTurn);
        }
        catch (CliRpcException ex)
        {
            // A cancel answered the prompt already in the spec's terms: cancelled, whatever the error.
            if (turn.Cancelling)
            {
                return new PromptResponse(StopReasons.Cancelled);
            }

            throw ex.Code == ErrorCodes.SessionBusy ? AcpErrors.PromptRunning(AcpId) : AcpErrors.From(ex, AcpId);
        }
        catch (IOException ex)
        {
            throw AcpErrors.Lost(ex, AcpId);
        }
        finally
        {
            lock (_lock)
            {
                _turn = null;
            }

            turn.Dispose();
        }
    }

    /// <summary>
    /// <c>chat/send</c>. Problem: an editor left open is idle, and the sidecar's cleanup suspends idle
    /// sessions (or someone suspended it from the CLI); the next prompt was refused (1004). Solution:
    /// a suspended session is resumed (the agent continues the conversation) and the message sent.
    /// </summary>
    private async Task<ChatSendResult> SendAsync(string text)
    {
        var send = new ChatSendParams { SessionId = CurrentId, Text = text };
        try
        {
            return await _link.Connection.RequestAsync(CliProtocol.ChatSend, send).ConfigureAwait(false);
        }
        catch (CliRpcException ex) when (ex.Code == ErrorCodes.InvalidState)
        {
            var session = await _link.Connection.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = CurrentId }).ConfigureAwait(false);
            if (session.Status != SessionStatuses.Suspended)
            {
                throw;
            }

            await _log.WriteLineAsync($"agent-sidecar acp: session {session.Id} was suspended ({session.StatusReason}); resuming it for the prompt").ConfigureAwait(false);
            await _link.Connection.RequestAsync(CliProtocol.SessionResume, new SessionIdParams { SessionId = session.Id }).ConfigureAwait(false);
            return await _link.Connection.RequestAsync(CliProtocol.ChatSend, send).ConfigureAwait(false);
        }
    }

    /// <summary><c>session/cancel</c>: the running prompt's turn is cancelled (nothing runs: nothing happens).</summary>
    public async Task CancelAsync()
    {
        AcpTurn? turn;
        lock (_lock)
        {
            turn = _turn;
        }

        if (turn is not null)
        {
            try
            {
                await turn.CancelAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Also run unawaited (a cancelled prompt request): a failure is logged, never lost.
                await _log.WriteLineAsync($"agent-sidecar acp: cancel of session {AcpId}: {ex.Message}").ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _link.Transitioned -= OnTransitioned;
        if (_attachId is { } id)
        {
            _link.Forget(id);
        }

        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or CliRpcException)
        {
        }
    }

    /// <summary>The text is the clear command: <c>/clear</c> for every agent, and the agent's own (Auggie's <c>/new</c>).</summary>
    private bool IsClear(string text) => text.Trim() is "/clear" || (Provider == "auggie" && text.Trim() == "/new");

    private async Task ClearAsync()
    {
        var previous = CurrentId;
        var result = await _link.Connection.RequestAsync(AcpProtocolV1.SessionClear, new SessionIdParams { SessionId = previous }).ConfigureAwait(false);
        Follow(result.Previous.Id, result.Current.Id);
    }

    /// <summary>
    /// <c>session/set_config_option</c> for the agent or the model: another managed session takes
    /// the current one's place (<c>session/start</c> with <c>replaces</c>), a new conversation in
    /// this ACP session. Refused while a prompt runs. If the new agent does not start, the session
    /// goes on as it was and the client gets the reason.
    /// </summary>
    public async Task SwitchAsync(string provider, string? model)
    {
        string previous;
        lock (_lock)
        {
            if (_turn is not null || _switching)
            {
                throw AcpErrors.Busy(AcpId, "a prompt is running: cancel it or let it finish before changing the agent or model");
            }

            if (provider == _provider && model == _model)
            {
                return;
            }

            _switching = true;
            previous = _currentId;
        }

        try
        {
            var started = await _link.Connection.RequestAsync(CliProtocol.SessionStart, new SessionStartParams { Workspace = _workspace, Provider = provider, Model = model, Replaces = previous }).ConfigureAwait(false);
            if (started.Status is not (SessionStatuses.Active or SessionStatuses.Created))
            {
                throw AcpErrors.Internal($"the {provider} agent did not start ({started.StatusReason ?? started.Status}); the session goes on with {Provider}", AcpId);
            }

            Follow(previous, started.Id, started);
            await _log.WriteLineAsync($"agent-sidecar acp: session {AcpId} now runs {provider}{(model is null ? string.Empty : $" ({model})")} in session {started.Id}, which replaced {previous}").ConfigureAwait(false);
        }
        catch (CliRpcException ex)
        {
            throw AcpErrors.From(ex, AcpId);
        }
        finally
        {
            lock (_lock)
            {
                _switching = false;
            }
        }

        await AnnounceCommandsAsync().ConfigureAwait(false);
    }

    /// <summary>Moves on from <paramref name="previousId"/>; a session of another agent or model brings its own (a replacement).</summary>
    private bool Follow(string previousId, string currentId, Session? current = null)
    {
        lock (_lock)
        {
            if (_currentId != previousId)
            {
                return false;
            }

            _currentId = currentId;
            if (current is null || (current.Provider == _provider && current.Model == _model))
            {
                return false;
            }

            (_provider, _model) = (current.Provider, current.Model);
            return true;
        }
    }

    /// <summary>
    /// A clear elsewhere (the agent's terminal, another editor) moves this session on too; a
    /// replacement elsewhere (another editor changed the agent) also changes the options shown.
    /// </summary>
    private void OnTransitioned(SessionTransitionedParams p)
    {
        bool ours;
        lock (_lock)
        {
            // This session's own switch: its answer carries the options.
            ours = _switching;
        }

        if (Follow(p.Previous.Id, p.Current.Id, p.Current) && !ours)
        {
            OptionsChanged?.Invoke(this);
        }
    }

    /// <summary>The agent or model changed by a replacement someone else made: the client's pickers are out of date.</summary>
    public event Action<AcpSession>? OptionsChanged;

    private async Task ReadAsync(ChannelReader<Protocol.EventRecord> events)
    {
        await foreach (var e in events.ReadAllAsync().ConfigureAwait(false))
        {
            _lastSeen = (e.SessionId, e.Seq);
            AcpTurn? turn;
            lock (_lock)
            {
                turn = _turn;
            }

            if (turn is null)
            {
                continue;
            }

            try
            {
                await turn.OnEventAsync(e).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // One event that cannot be mapped or sent must not end the stream of the others.
                await _log.WriteLineAsync($"agent-sidecar acp: {e.Channel}/{e.Type} #{e.Seq} of session {e.SessionId} was not sent: {ex.Message}").ConfigureAwait(false);
            }
        }
    }

    /// <summary>The sidecar ended the attachment (a client that read too slowly: overflow): attach again where it stopped.</summary>
    private void OnDetached(SessionDetachedParams p)
    {
        if (p.Reason != "overflow")
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                if (_attachId is { } old)
                {
                    _link.Forget(old);
                }

                await _reader.ConfigureAwait(false);
                var (sessionId, seq) = _lastSeen;
                var (attachId, events) = await _link.AttachAsync(sessionId, seq, OnDetached, CancellationToken.None).ConfigureAwait(false);
                _attachId = attachId;
                _reader = ReadAsync(events);
            }
            catch (Exception ex)
            {
                // Nobody awaits this: its failure is logged here, never lost.
                await _log.WriteLineAsync($"agent-sidecar acp: session {AcpId} could not attach again: {ex.Message}").ConfigureAwait(false);
            }
        });
    }
}
