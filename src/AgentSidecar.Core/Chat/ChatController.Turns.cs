using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Chat;

internal sealed partial class ChatController
{
    /// <summary>An OSC mark the agent wrote (fed through its screen): it sets the running turn's signals.</summary>
    private void OnOsc(int code, string payload)
    {
        var mark = $"{code};{payload}";
        if (_readyOsc?.IsMatch(mark) == true)
        {
            _oscReady = true;
        }

        if (_turn is { InputSent: true } turn)
        {
            if (turn.Cancelling && (_readyOsc?.IsMatch(mark) == true || _doneOsc?.IsMatch(mark) == true))
            {
                turn.CancelSignal = true;
            }

            if (_busyOsc?.IsMatch(mark) == true)
            {
                turn.SawBusy = true;
            }
            else if (_doneOsc?.IsMatch(mark) == true && (turn.SawBusy || _busyOsc is null))
            {
                turn.DoneSignal = true;
            }
            else if (_failedOsc?.IsMatch(mark) == true)
            {
                turn.FailedSignal = true;
            }
        }

        Wake();
    }

    private async Task EvaluateTurnAsync(Turn turn)
    {
        // Problem: a done mark can land between taking the snapshot and reading the flag, and the
        // turn would end with the text from before the answer. Solution: read the signals first;
        // the mark is fed after the answer's text, so a later snapshot has the text.
        var doneSignal = turn.DoneSignal;
        var failedSignal = turn.FailedSignal;
        var cancelSignal = turn.CancelSignal;
        var now = Now();
        var snapshot = _screen.Snapshot(withAnsi: false);
        var lines = snapshot.Scrollback.Skip(Math.Max(0, snapshot.Scrollback.Count - ScrollbackLinesForAnswers)).Concat(snapshot.Lines).ToList();
        var screenText = turn.InputSent ? _answer.Extract(lines, turn.Text) : string.Empty;
        if (screenText != turn.ScreenText)
        {
            turn.ScreenText = screenText;
            turn.ScreenChangedAt = now;
        }

        await StreamDeltaAsync(turn, screenText, now).ConfigureAwait(false);
        await EvaluateApprovalAsync(turn, string.Join('\n', snapshot.Lines)).ConfigureAwait(false);
        var answer = turn.TranscriptAnswers.Count > 0 ? string.Join("\n\n", turn.TranscriptAnswers) : null;

        // What the user saw of the answer: the screen's text, or what was streamed if the agent redrew it away.
        var partial = screenText.Length >= turn.Streamed.Length ? screenText : turn.Streamed.TrimEnd();
        if (turn.Cancelling)
        {
            if (cancelSignal || turn.TranscriptAborted || now - turn.CancelAt >= CancelTimeoutMs || (_busyOsc is null && ScreenIdle(lines) && now - turn.CancelAt >= _profile.StableMilliseconds))
            {
                await FinishAsync(turn, "cancelled", answer ?? partial, answer is null ? "screen" : "transcript", "cancelled by the user").ConfigureAwait(false);
            }

            return;
        }

        if (ShowsNoSignOfWork(turn, lines, now) is { } silence)
        {
            await FinishAsync(turn, "failed", answer ?? partial, answer is null ? "screen" : "transcript", $"the agent showed no sign of work for {silence.TotalSeconds:0} s (no output, not busy on its screen, no transcript record); its screen ends with:\n{ScreenTail(lines)}").ConfigureAwait(false);
            return;
        }

        if (turn.TranscriptAborted)
        {
            // Codex ends its turn when an approval is refused: that is why it stopped, not an interrupt.
            var why = turn.ApprovalRejected ? "the agent stopped after its request was rejected" : "interrupted in the terminal";
            await FinishAsync(turn, "cancelled", answer ?? partial, answer is null ? "screen" : "transcript", why).ConfigureAwait(false);
            return;
        }

        if (failedSignal)
        {
            await FinishAsync(turn, "failed", answer ?? partial, "screen", "the agent reported an error: " + ErrorLine(lines)).ConfigureAwait(false);
            return;
        }

        if (turn.TranscriptCompleted && answer is not null)
        {
            await FinishAsync(turn, "completed", answer, "transcript", null).ConfigureAwait(false);
            return;
        }

        // A prompt waiting for an answer is not the end of the turn, whatever else the screen shows
        // (Claude Code's selected option "❯ 1. Yes" looks like its idle prompt).
        if (_approvals.Pending is not null)
        {
            return;
        }

        if (!doneSignal && _doneOsc is null && turn.InputSent)
        {
            // Screen-only agents: busy shown, then gone, then the screen holds still.
            var text = string.Join('\n', lines);
            if (_busyScreen?.IsMatch(text) == true)
            {
                turn.SawBusy = true;
            }
            else if (turn.SawBusy && (_doneScreen?.IsMatch(text) ?? true) && now - turn.ScreenChangedAt >= _profile.StableMilliseconds)
            {
                doneSignal = turn.DoneSignal = true;
            }
        }

        if (doneSignal)
        {
            if (turn.DoneAt == 0)
            {
                turn.DoneAt = now;
            }

            // The transcript usually lands with the done signal; give it a moment before using the screen.
            if (answer is null && _transcript is not null && now - turn.DoneAt < TranscriptGraceMs)
            {
                return;
            }

            await FinishAsync(turn, "completed", answer ?? screenText, answer is null ? "screen" : "transcript", null).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// How long the agent has shown no sign of work in this turn, once that passes the profile's
    /// limit (else null). Signs: output, the busy pattern on screen, a transcript record. The OSC
    /// busy mark is not one: it is written once when work starts, and a lost done mark is exactly
    /// what this guards against.
    /// </summary>
    private TimeSpan? ShowsNoSignOfWork(Turn turn, List<string> lines, long now)
    {
        // A prompt waiting for the user is no silence: the user may be away.
        if (_profile.TurnIdleSeconds <= 0 || !turn.InputSent || _approvals.Pending is not null)
        {
            return null;
        }

        var lastSign = Math.Max(turn.StartedAt, Math.Max(_agent.LastOutputAt, _lastTranscriptAt));
        var silent = TimeSpan.FromMilliseconds(now - lastSign);
        return silent.TotalSeconds >= _profile.TurnIdleSeconds && _busyScreen?.IsMatch(string.Join('\n', lines)) != true ? silent : null;
    }

    private const int TailLines = 15;

    private static string ScreenTail(List<string> lines)
    {
        var shown = lines.Where(l => l.Trim().Length > 0).ToList();
        return string.Join('\n', shown.Skip(Math.Max(0, shown.Count - TailLines)));
    }

    private bool ScreenIdle(List<string> lines) => _busyScreen is null || !_busyScreen.IsMatch(string.Join('\n', lines));

    private static string ErrorLine(List<string> lines) =>
        lines.LastOrDefault(l => l.TrimStart().StartsWith('■'))?.Trim().TrimStart('■').Trim() ?? "see the terminal";

    private async Task StreamDeltaAsync(Turn turn, string screenText, long now)
    {
        // Only strictly growing text is streamed; a redraw that changes earlier text waits for the final message.
        if (screenText.Length > turn.Streamed.Length && screenText.StartsWith(turn.Streamed, StringComparison.Ordinal) && now - turn.LastDeltaAt >= DeltaIntervalMs)
        {
            var delta = screenText[turn.Streamed.Length..];
            turn.Streamed = screenText;
            turn.LastDeltaAt = now;
            await _writer.AppendAsync(ChatEvents.Delta(_agent.SessionId, turn.Id, delta)).ConfigureAwait(false);
        }
    }

    private async Task OnTranscriptAsync(TranscriptItem item)
    {
        switch (item)
        {
            case SessionStarted started when started.AgentSessionId != _knownAgentSessionId:
                _knownAgentSessionId = started.AgentSessionId;
                _reports.AgentSessionId(started.AgentSessionId);
                break;
            case UserMessage user:
                await OnTranscriptUserAsync(user).ConfigureAwait(false);
                break;
            case AssistantMessage assistant when _transcriptTurn is { } t && assistant.Text.Length > 0:
                t.TranscriptAnswers.Add(assistant.Text);
                break;
            case UsageReported usage when _transcriptTurn is { } t:
                t.HasUsage = true;
                t.InputTokens += usage.InputTokens;
                t.OutputTokens += usage.OutputTokens;
                t.CachedInputTokens += usage.CachedInputTokens;
                break;
            case ToolCall call when _transcriptTurn is { } t:
                await OnToolCallAsync(t, call).ConfigureAwait(false);
                break;
            case ToolResult result when _transcriptTurn is not null && _tools.Finished(result) is { } finished:
                await _writer.AppendAsync(ChatEvents.Tool(_agent.SessionId, finished)).ConfigureAwait(false);
                break;
            case TurnCompleted done when _transcriptTurn is { } t:
                if (t.TranscriptAnswers.Count == 0 && done.LastAgentMessage is { Length: > 0 } last)
                {
                    t.TranscriptAnswers.Add(last);
                }

                t.TranscriptCompleted = true;
                _transcriptTurn = null;
                break;
            case TurnAborted when _transcriptTurn is { } t:
                t.TranscriptAborted = true;
                _transcriptTurn = null;
                break;
            case TranscriptProblem problem:
                await _writer.AppendAsync(Events.Events.Error(_agent.SessionId, _agent.Id, $"transcript: {problem.Message}; answers come from the screen meanwhile", "transcript")).ConfigureAwait(false);
                break;
        }
    }

    private async Task OnToolCallAsync(Turn turn, ToolCall call)
    {
        turn.ToolCalls++;

        // The turn's answer is what the agent says after its last tool call, never the text before one.
        turn.TranscriptAnswers.Clear();
        var (tool, plan) = _tools.Started(turn.Id, call);
        if (tool is not null)
        {
            turn.LastToolCallId = tool.ToolCallId;
            await _writer.AppendAsync(ChatEvents.Tool(_agent.SessionId, tool)).ConfigureAwait(false);

            // The prompt for this call may have been seen before the call was read: link them.
            if (_approvals.AttachTool(tool.ToolCallId, tool.Command) is { } approval)
            {
                await _writer.AppendAsync(ChatEvents.Approval(_agent.SessionId, approval)).ConfigureAwait(false);
                if (_tools.WithStatus(tool.ToolCallId, ToolStatuses.Pending) is { } waiting)
                {
                    await _writer.AppendAsync(ChatEvents.Tool(_agent.SessionId, waiting)).ConfigureAwait(false);
                }
            }
        }

        if (plan is not null)
        {
            await _writer.AppendAsync(ChatEvents.Plan(_agent.SessionId, plan)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Decides which turn the transcript's next items belong to. Problem: an agent may record a turn
    /// late (Auggie saves an interrupted exchange after the interrupt), so items can arrive while the
    /// next turn runs. Solution: items follow the user message they come after, matched by text: the
    /// running turn's, a finished turn's (then they are only a late record and are ignored), or a
    /// message typed straight into the terminal (a new turn).
    /// </summary>
    private async Task OnTranscriptUserAsync(UserMessage user)
    {
        var text = Normalize(user.Text);
        if (_turn is { SawUserInTranscript: false } current && (Normalize(current.Text) == text || !_finishedUnrecorded.Contains(text)))
        {
            current.SawUserInTranscript = true;
            _transcriptTurn = current;
            return;
        }

        if (_finishedUnrecorded.Remove(text))
        {
            _transcriptTurn = null;
            return;
        }

        if (_turn is null)
        {
            // Typed straight into the agent's terminal: it is a chat turn too.
            var turn = new Turn(NewTurnId(), user.Text, "terminal", Now()) { InputSent = true, SawUserInTranscript = true };
            _turn = turn;
            _transcriptTurn = turn;
            await _writer.AppendAsync(ChatEvents.User(_agent.SessionId, turn.Id, user.Text, "terminal")).ConfigureAwait(false);
            _reports.Changed();
        }
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Ends the turn: its message and turn events in one commit, then the caller's result.</summary>
    private async Task FinishAsync(Turn turn, string status, string text, string source, string? reason)
    {
        var duration = Now() - turn.StartedAt;
        var usage = turn.HasUsage || turn.ToolCalls > 0 ? new TurnUsage(turn.InputTokens, turn.OutputTokens, turn.CachedInputTokens, turn.ToolCalls) : null;
        var sessionId = _agent.SessionId;
        var sessionRow = _live.Row;
        var delta = new Metrics.UsageDelta(1, turn.InputTokens, turn.OutputTokens, turn.CachedInputTokens, turn.ToolCalls, duration);
        _turn = null;
        if (!turn.TranscriptCompleted && !turn.TranscriptAborted && _transcript is not null)
        {
            // The agent may still record this turn; its record must not be taken for the next one.
            if (ReferenceEquals(_transcriptTurn, turn))
            {
                _transcriptTurn = null;
            }
            else
            {
                _finishedUnrecorded.Add(Normalize(turn.Text));
                if (_finishedUnrecorded.Count > MaxUnrecordedTurns)
                {
                    _finishedUnrecorded.RemoveAt(0);
                }
            }
        }
        else if (ReferenceEquals(_transcriptTurn, turn))
        {
            _transcriptTurn = null;
        }
        // A prompt still waiting when its turn ends is over with it (no evaluation follows the turn).
        var approval = _approvals.EndWithTurn(turn.Cancelling);
        await _writer.WriteAsync(ctx =>
        {
            if (approval is not null)
            {
                ctx.Append(ChatEvents.Approval(sessionId, approval));
            }

            if (text.Length > 0)
            {
                ctx.Append(ChatEvents.Message(sessionId, turn.Id, text, source));
            }

            ctx.Append(ChatEvents.Turn(sessionId, new ChatTurnData(turn.Id, status, duration, usage, reason)));
            Metrics.MetricsRecords.Usage(ctx, sessionRow, delta);
            return 0;
        }).ConfigureAwait(false);
        _reports.Changed();
        turn.Result.TrySetResult(new TurnResult(turn.Id, status, text, duration, sessionId, reason));
    }
}
