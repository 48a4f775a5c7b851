using System.Collections.Concurrent;
using System.Text;
using AgentSidecar.Cli;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Events;
using AgentSidecar.Protocol;

namespace AgentSidecar.Acp;

/// <summary>
/// One <c>session/prompt</c> while its <c>chat/send</c> runs: the session's chat events become
/// <c>session/update</c>s (answer deltas as <c>agent_message_chunk</c>, tool calls, plans), and each
/// approval the agent asks for becomes a <c>session/request_permission</c> whose answer goes to
/// <c>chat/approve</c>. Events are handed in, in order, by the session's reader
/// (<see cref="OnEventAsync"/>); permission requests run beside it so a waiting user never holds up
/// the stream.
/// </summary>
internal sealed class AcpTurn(string acpSessionId, Func<string> sidecarSessionId, SidecarLink link, IAcpClient client, AcpTurnItems items, TextWriter log) : IDisposable
{
    private readonly StringBuilder _streamed = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _ended = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _asking = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _over = new();
    private string? _turnId;
    private volatile bool _cancelling;

    /// <summary>A <c>session/cancel</c> came for this turn: its result is <c>cancelled</c> whatever happens next (the spec's rule).</summary>
    public bool Cancelling => _cancelling;

    public async Task OnEventAsync(EventRecord e)
    {
        switch (e.Type)
        {
            case EventTypes.User when CliProtocol.Payload(e, AcpJsonContext.Default.ChatUserData) is { } user:
                // A session runs one turn at a time: the first message after our chat/send began is ours.
                _turnId ??= user.TurnId;
                break;
            case EventTypes.Delta when CliProtocol.Payload(e, AcpJsonContext.Default.ChatDeltaData) is { } delta && Ours(delta.TurnId):
                _streamed.Append(delta.Text);
                await client.UpdateAsync(acpSessionId, new AgentMessageChunk(new ContentBlock("text", delta.Text))).ConfigureAwait(false);
                break;
            case EventTypes.Tool when CliProtocol.Payload(e, AcpJsonContext.Default.ChatToolData) is { } tool && Ours(tool.TurnId):
                await client.UpdateAsync(acpSessionId, items.Tool(tool)).ConfigureAwait(false);
                break;
            case EventTypes.Plan when CliProtocol.Payload(e, AcpJsonContext.Default.ChatPlanData) is { } plan && Ours(plan.TurnId):
                await client.UpdateAsync(acpSessionId, AcpTurnItems.Plan(plan)).ConfigureAwait(false);
                break;
            case EventTypes.Approval when CliProtocol.Payload(e, AcpJsonContext.Default.ChatApprovalData) is { } approval && Ours(approval.TurnId):
                await OnApprovalAsync(approval).ConfigureAwait(false);
                break;
            case EventTypes.Turn when CliProtocol.Payload(e, AcpJsonContext.Default.ChatTurnData) is { } turn:
                Ended(turn.TurnId).TrySetResult();
                break;
        }
    }

    /// <summary>
    /// Waits until the turn's own <c>chat/turn</c> event went through <see cref="OnEventAsync"/>, so every
    /// update of the turn is sent before its result. <c>chat/send</c> answers once that event is
    /// committed; the attachment delivers it on the same connection within milliseconds. The grace
    /// only bounds a lost attachment.
    /// </summary>
    public async Task WaitForEventsAsync(string turnId, TimeSpan grace)
    {
        if (turnId.Length == 0)
        {
            return;
        }

        try
        {
            await Ended(turnId).Task.WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await log.WriteLineAsync($"agent-sidecar acp: the events of turn {turnId} did not all arrive within {grace.TotalSeconds:0} s; answering the prompt anyway").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The part of the final answer the streamed deltas did not show. The deltas are read from the
    /// agent's screen while it writes; the final answer comes from its transcript. When it goes on
    /// where they stopped, the rest is sent; when nothing streamed, all of it. When the screen showed
    /// something else (the answer as rendered, a tool call's lines) and the answer is not in it, the
    /// answer follows on a paragraph of its own: ACP has no way to take chunks back, and the client
    /// must end up with the true text (the one <c>session/load</c> replays).
    /// </summary>
    public async Task FinishTextAsync(string answer)
    {
        var streamed = _streamed.ToString();
        if (CliChat.Unshown(streamed, answer) is not { } rest || rest.Text.Length == 0)
        {
            return;
        }

        var text = rest.Continues || streamed.Trim().Length == 0 ? rest.Text
            : streamed.Contains(answer.Trim(), StringComparison.Ordinal) ? string.Empty
            : "\n\n" + answer;
        if (text.Length > 0)
        {
            await client.UpdateAsync(acpSessionId, new AgentMessageChunk(new ContentBlock("text", text))).ConfigureAwait(false);
        }
    }

    /// <summary><c>session/cancel</c>: withdraw the permission requests (the client answers them <c>cancelled</c>), then <c>chat/cancel</c>, which rejects a waiting prompt first.</summary>
    public async Task CancelAsync()
    {
        _cancelling = true;
        foreach (var (_, asking) in _asking)
        {
            await asking.CancelAsync().ConfigureAwait(false);
        }

        await link.Connection.RequestAsync(CliProtocol.ChatCancel, new SessionIdParams { SessionId = sidecarSessionId() }).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _over.Cancel();
        _over.Dispose();
        foreach (var (_, asking) in _asking)
        {
            asking.Dispose();
        }
    }

    private bool Ours(string turnId) => _turnId is null || _turnId == turnId;

    private TaskCompletionSource Ended(string turnId) =>
        _ended.GetOrAdd(turnId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task OnApprovalAsync(ChatApprovalData approval)
    {
        if (approval.Status != ApprovalStatuses.Pending)
        {
            // Answered (here, in the terminal, in another editor) or gone: a question still open at the client is moot.
            if (_asking.TryRemove(approval.ApprovalId, out var open))
            {
                await open.CancelAsync().ConfigureAwait(false);
            }

            return;
        }

        if (_asking.ContainsKey(approval.ApprovalId))
        {
            return;
        }

        var (announce, subject) = items.ApprovalSubject(approval);
        if (announce is not null)
        {
            await client.UpdateAsync(acpSessionId, announce).ConfigureAwait(false);
        }

        var asking = CancellationTokenSource.CreateLinkedTokenSource(_over.Token);
        _asking[approval.ApprovalId] = asking;
        _ = AskAsync(approval, subject, asking.Token);
    }

    private async Task AskAsync(ChatApprovalData approval, ToolCallUpdate subject, CancellationToken moot)
    {
        try
        {
            var request = new RequestPermissionRequest(acpSessionId, subject, AcpTurnItems.Options(approval));
            var response = await client.RequestPermissionAsync(request, moot).ConfigureAwait(false);
            if (moot.IsCancellationRequested || _cancelling)
            {
                return;
            }

            var chosen = response.Outcome is { Outcome: "selected", OptionId: { } id } && approval.Options.Any(o => o.OptionId == id)
                ? id
                : ApprovalModes.Choose(ApprovalModes.Never, approval.Options)?.OptionId;
            if (chosen is null)
            {
                await log.WriteLineAsync($"agent-sidecar acp: the client did not allow \"{approval.Title}\" and it offers no rejection: cancelling the turn").ConfigureAwait(false);
                await link.Connection.RequestAsync(CliProtocol.ChatCancel, new SessionIdParams { SessionId = sidecarSessionId() }, CancellationToken.None).ConfigureAwait(false);
                return;
            }

            await link.Connection.RequestAsync(CliProtocol.ChatApprove, new ChatApproveParams { SessionId = sidecarSessionId(), ApprovalId = approval.ApprovalId, OptionId = chosen }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Answered elsewhere, cancelled, or the turn is over.
        }
        catch (CliRpcException ex)
        {
            // Answered meanwhile, its prompt gone, the session no longer live: the turn goes on (or ends) by itself.
            await log.WriteLineAsync($"agent-sidecar acp: could not answer \"{approval.Title}\": {ex.Message}").ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Nobody awaits this (it runs beside the event stream): its failure is logged here, never lost.
            await log.WriteLineAsync($"agent-sidecar acp: the permission request for \"{approval.Title}\" failed: {ex.Message}").ConfigureAwait(false);
        }
        finally
        {
            _asking.TryRemove(approval.ApprovalId, out _);
        }
    }
}
