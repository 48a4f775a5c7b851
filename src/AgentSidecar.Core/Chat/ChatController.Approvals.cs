using System.Text;

namespace AgentSidecar.Core.Chat;

/// <summary>Approvals: seen on the screen while a turn runs, answered from the chat or the terminal.</summary>
internal sealed partial class ChatController
{
    /// <summary>How long the agent may take to take a prompt away after its answer was typed.</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    private const int ScreenTailLines = 15;

    /// <summary>What the session waits for: <c>approval</c> while a prompt waits for an answer, else null.</summary>
    public string? Waiting => _approvals.Pending is not null ? "approval" : null;

    /// <summary>Keys the user typed into the agent's terminal: they may answer a prompt.</summary>
    public void NoteKeys(string data) => _approvals.NoteKeys(data);

    /// <summary>How long until the pending approval prompt takes keys (its <c>settleMilliseconds</c>); null with none pending.</summary>
    public TimeSpan? ApprovalSettleRemaining =>
        _approvals.Pending is null ? null : TimeSpan.FromMilliseconds(Math.Max(0, _approvals.PendingSince + _approvals.SettleMilliseconds - Now()));

    /// <summary>
    /// <c>chat/approve</c>: types the option's keys into the agent, if the prompt it answers is the
    /// one on screen, and waits until the agent has taken the prompt away; returns the approval as
    /// resolved.
    /// </summary>
    public async Task<ChatApprovalData> ApproveAsync(string approvalId, string optionId, CancellationToken cancellationToken)
    {
        // Some agents drop a key pressed just after their prompt appeared: let it settle first.
        if (_approvals.Pending is { } shown && shown.ApprovalId == approvalId && _approvals.PendingSince + _approvals.SettleMilliseconds - Now() is > 0 and var wait)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(wait), _clock, cancellationToken).ConfigureAwait(false);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var approval = _approvals.Find(approvalId) ?? throw new SidecarException(SidecarError.ApprovalNotFound, $"approval '{approvalId}' is not known in this session");
            if (approval.Status != ApprovalStatuses.Pending)
            {
                throw new SidecarException(SidecarError.SessionBusy, $"approval {approvalId} was already answered: {approval.Status} by {approval.ResolvedBy}", Resolution(approval));
            }

            if (approval.Options.All(o => o.OptionId != optionId))
            {
                throw new SidecarException(SidecarError.InvalidArgument, $"approval {approvalId} offers no option '{optionId}'; it offers {string.Join(", ", approval.Options.Select(o => o.OptionId))}", new Dictionary<string, object?> { ["field"] = "optionId" });
            }

            var screen = ScreenText();
            if (!_approvals.PromptShown(screen))
            {
                // Never type an answer into something else: the prompt went away meanwhile.
                throw new SidecarException(SidecarError.SessionBusy, $"the prompt of approval {approvalId} is no longer on the agent's screen, which shows:\n{Tail(screen)}", new Dictionary<string, object?> { ["screen"] = Tail(screen) });
            }

            Type(_approvals.Answer(optionId, ApprovalResolvers.Chat));
        }
        finally
        {
            _gate.Release();
        }

        Wake();
        return await WaitResolvedAsync(approvalId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A cancel while a prompt waits: the prompt is rejected first (then the interrupt stops the rest).</summary>
    private async Task RejectPendingAsync()
    {
        if (_approvals.PendingSince + _approvals.SettleMilliseconds - Now() is > 0 and var wait)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(wait), _clock).ConfigureAwait(false);
        }

        string approvalId;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_approvals.Pending is not { } pending || _approvals.RejectOption() is not { } reject || !_approvals.PromptShown(ScreenText()))
            {
                return;
            }

            approvalId = pending.ApprovalId;
            Type(_approvals.Answer(reject, ApprovalResolvers.Chat));
        }
        finally
        {
            _gate.Release();
        }

        Wake();
        try
        {
            await WaitResolvedAsync(approvalId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SidecarException)
        {
            // The prompt stayed: the interrupt that follows is the cancel's last word.
        }
    }

    private async Task<ChatApprovalData> WaitResolvedAsync(string approvalId, CancellationToken cancellationToken)
    {
        var deadline = _clock.GetUtcNow() + AnswerTimeout;
        while (true)
        {
            if (_approvals.Find(approvalId) is { Status: not ApprovalStatuses.Pending } resolved)
            {
                return resolved;
            }

            if (_clock.GetUtcNow() > deadline)
            {
                throw new SidecarException(SidecarError.InvalidState, $"the agent still shows the prompt of approval {approvalId} {AnswerTimeout.TotalSeconds:0} s after the answer was typed; see its terminal");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(BusyPollMs), _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Called by the turn's evaluation with the screen: writes the approval when it appears or is answered.</summary>
    private async Task EvaluateApprovalAsync(Turn turn, string screen)
    {
        if (!_approvals.HasPatterns || _approvals.Evaluate(screen, turn.Id, turn.LastToolCallId, Now()) is not { } change)
        {
            return;
        }

        // A call already read: its exact command says more than the screen, which may wrap or cut it.
        if (change.Status == ApprovalStatuses.Pending && change.ToolCallId is { } known && _tools.Command(known) is { } command)
        {
            change = _approvals.WithCommand(command) ?? change;
        }

        await _writer.AppendAsync(ChatEvents.Approval(_agent.SessionId, change)).ConfigureAwait(false);
        turn.ApprovalRejected |= change.Status == ApprovalStatuses.Rejected;

        // The call it asks about waits for the answer, and goes on once allowed.
        var toolStatus = change.Status switch
        {
            ApprovalStatuses.Pending => ToolStatuses.Pending,
            ApprovalStatuses.Allowed => ToolStatuses.InProgress,
            _ => null,
        };
        if (change.ToolCallId is { } callId && toolStatus is not null && _tools.WithStatus(callId, toolStatus) is { } tool)
        {
            await _writer.AppendAsync(ChatEvents.Tool(_agent.SessionId, tool)).ConfigureAwait(false);
        }

        _reports.Changed();
    }

    private void Type(string keys) => _agent.Process?.Write(Encoding.UTF8.GetBytes(keys));

    private string ScreenText()
    {
        var snapshot = _screen.Snapshot(withAnsi: false);
        return string.Join('\n', snapshot.Lines);
    }

    private static string Tail(string screen)
    {
        var lines = screen.Split('\n').Where(l => l.Trim().Length > 0).ToList();
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Count - ScreenTailLines)));
    }

    private static Dictionary<string, object?> Resolution(ChatApprovalData a) => new()
    {
        ["status"] = a.Status,
        ["resolvedBy"] = a.ResolvedBy,
        ["optionId"] = a.OptionId,
    };
}
