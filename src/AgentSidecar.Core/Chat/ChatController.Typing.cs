using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Chat;

/// <summary>How a message reaches the agent: typed the way the provider says, submitted again if the agent ignored the submit key.</summary>
internal sealed partial class ChatController
{
    /// <summary>
    /// Problem: an agent busy redrawing (Auggie on a loaded machine, or just after a resume) can take
    /// the submit key as part of the pasted text, and the message then sits in its input box while the
    /// turn waits forever. Solution: if the agent shows no sign of working a while after the submit,
    /// press the submit key again (at most twice; on an empty input box agents ignore it).
    /// </summary>
    private async Task ResubmitIfIgnoredAsync(Turn turn)
    {
        if (!_profile.Input.SubmitSeparately || (_busyOsc is null && _busyScreen is null))
        {
            return;
        }

        for (var attempt = 1; attempt <= MaxResubmits; attempt++)
        {
            try
            {
                await Task.Delay(ResubmitAfter, _clock, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!ReferenceEquals(_turn, turn) || turn.SawBusy || turn.DoneSignal || turn.FailedSignal || turn.Cancelling || turn.Result.Task.IsCompleted)
            {
                return;
            }

            LogResubmit(_logger, turn.Id, attempt);
            _agent.Process?.Write(System.Text.Encoding.UTF8.GetBytes(_profile.Input.Submit));
        }
    }

    private const int MaxResubmits = 2;

    private static readonly TimeSpan ResubmitAfter = TimeSpan.FromSeconds(2);

    [LoggerMessage(Level = LogLevel.Information, Message = "turn {TurnId}: the agent showed no sign of working after the submit key; pressing it again (attempt {Attempt})")]
    private static partial void LogResubmit(ILogger logger, string turnId, int attempt);

    private async Task TypeAsync(string text)
    {
        var input = _profile.Input;
        var body = input.BracketedPaste ? $"\u001b[200~{text}\u001b[201~" : text;
        var process = _agent.Process ?? throw new SidecarException(SidecarError.InvalidState, "the agent is not running");
        if (input.SubmitSeparately)
        {
            process.Write(System.Text.Encoding.UTF8.GetBytes(body));
            var pause = input.BracketedPaste ? input.PasteSubmitDelayMs ?? input.SubmitDelayMs : input.SubmitDelayMs;
            if (pause > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(pause), _clock).ConfigureAwait(false);
            }

            process.Write(System.Text.Encoding.UTF8.GetBytes(input.Submit));
        }
        else
        {
            process.Write(System.Text.Encoding.UTF8.GetBytes(body + input.Submit));
        }
    }
}
