using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using AgentSidecar.Core.Chat;
using AgentSidecar.Protocol;

namespace AgentSidecar.Cli;

/// <summary><c>chat --approve</c>: what the chat does when the agent asks before it acts.</summary>
internal static class ApprovalModes
{
    /// <summary>Show the question and its options, read the choice (the default when stdin is a terminal).</summary>
    public const string Ask = "ask";

    /// <summary>Allow: the first <c>allow_once</c> option, else the first allowing one.</summary>
    public const string Always = "always";

    /// <summary>Reject: the first <c>reject_once</c> option, else the first rejecting one (the default when stdin is not a terminal: a script must not hang).</summary>
    public const string Never = "never";

    public static readonly string[] All = [Ask, Always, Never];

    public static string Default(bool inputIsTerminal) => inputIsTerminal ? Ask : Never;

    /// <summary>The option <paramref name="mode"/> answers with by itself (null: none fits, or <see cref="Ask"/>).</summary>
    public static ApprovalOption? Choose(string mode, IReadOnlyList<ApprovalOption> options) => mode switch
    {
        Always => options.FirstOrDefault(o => o.Kind == ApprovalOptionKinds.AllowOnce) ?? options.FirstOrDefault(o => ApprovalOptionKinds.Allows(o.Kind)),
        Never => options.FirstOrDefault(o => o.Kind == ApprovalOptionKinds.RejectOnce) ?? options.FirstOrDefault(o => !ApprovalOptionKinds.Allows(o.Kind)),
        _ => null,
    };

    /// <summary>A typed choice: a number from 1, an option's id, or nothing (Enter) for the first option.</summary>
    public static ApprovalOption? Parse(string line, IReadOnlyList<ApprovalOption> options)
    {
        var text = line.Trim();
        if (text.Length == 0)
        {
            return options.Count > 0 ? options[0] : null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return n >= 1 && n <= options.Count ? options[n - 1] : null;
        }

        return options.FirstOrDefault(o => string.Equals(o.OptionId, text, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>
/// The approvals of the chat's session. Those of a turn this chat sent are answered here, one at a
/// time, as <c>--approve</c> says: asked on the terminal, or allowed or rejected by themselves. An
/// approval answered elsewhere meanwhile (the editor, the agent's terminal) stops the question. Those
/// of turns sent elsewhere are shown, with where to answer them, and so is how each one ended.
/// </summary>
internal sealed class ChatApprovals(CliConnection conn, ChatConsole console, ConsoleLines input, string mode, bool inputEchoed)
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Tracked> _tracked = new(StringComparer.Ordinal);
    private readonly Channel<ChatApprovalData> _asked = Channel.CreateUnbounded<ChatApprovalData>();

    /// <summary>A <c>chat/approval</c> event (on the connection's reader): queued to be answered, or shown.</summary>
    public void OnApproval(ChatApprovalData approval, bool ourTurn)
    {
        Tracked tracked;
        string? answeredHere;
        bool asking;
        lock (_lock)
        {
            tracked = Track(approval.ApprovalId);
            answeredHere = tracked.AnsweredHere;
            asking = tracked.Asking;
        }

        if (approval.Status == ApprovalStatuses.Pending)
        {
            if (!ourTurn)
            {
                console.Print(p => p.Approval(approval, numbered: false, "answer it in the editor or in the agent's terminal"));
            }
            else if (!tracked.Queued)
            {
                tracked.Queued = true;
                _asked.Writer.TryWrite(approval);
            }

            return;
        }

        tracked.Resolved.TrySetResult(approval);
        console.Print(p => p.Outcome(approval, answeredHere), endsPrompt: asking);
    }

    /// <summary>Answers the approvals of the turn this chat sent until <paramref name="turn"/> (its <c>chat/send</c>) ends.</summary>
    public async Task AnswerUntilAsync(string sessionId, Task turn, CancellationToken cancellationToken)
    {
        while (!turn.IsCompleted)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var asked = _asked.Reader.WaitToReadAsync(stop.Token).AsTask();
            if (await Task.WhenAny(turn, asked).ConfigureAwait(false) == turn || asked.IsCanceled)
            {
                // The turn ended, or the chat is being cancelled (its chat/send with it).
                await stop.CancelAsync().ConfigureAwait(false);
                break;
            }

            while (!turn.IsCompleted && _asked.Reader.TryRead(out var approval))
            {
                await AnswerAsync(sessionId, approval, turn, cancellationToken).ConfigureAwait(false);
            }
        }

        // Questions left when the turn ended are moot (the sidecar resolves them: their events say how).
        while (_asked.Reader.TryRead(out _))
        {
        }
    }

    private async Task AnswerAsync(string sessionId, ChatApprovalData approval, Task turn, CancellationToken cancellationToken)
    {
        Tracked tracked;
        lock (_lock)
        {
            tracked = Track(approval.ApprovalId);
        }

        if (tracked.Resolved.Task.IsCompleted)
        {
            return;
        }

        console.Hold();
        try
        {
            await AnswerHeldAsync(sessionId, approval, tracked, turn, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            console.Release();
        }
    }

    private async Task AnswerHeldAsync(string sessionId, ChatApprovalData approval, Tracked tracked, Task turn, CancellationToken cancellationToken)
    {
        ApprovalOption? choice;
        string how;
        if (mode == ApprovalModes.Ask)
        {
            console.Print(p => p.Approval(approval, numbered: true, note: null));
            (choice, how) = await AskAsync(approval, tracked, turn, cancellationToken).ConfigureAwait(false);
            if (choice is null && how.Length == 0)
            {
                return; // answered elsewhere, or the turn ended
            }
        }
        else
        {
            console.Print(p => p.Approval(approval, numbered: false, note: null));
            how = $"--approve {mode}";
            choice = ApprovalModes.Choose(mode, approval.Options);
        }

        if (choice is null)
        {
            // No option fits (an approval that only allows, with --approve never): cancel the turn
            // rather than leave it waiting for an answer that never comes.
            console.Print(p => p.Note($"no option fits {how}: cancelling the turn"));
            try
            {
                await conn.RequestAsync(CliProtocol.ChatCancel, new SessionIdParams { SessionId = sessionId }, cancellationToken).ConfigureAwait(false);
            }
            catch (CliRpcException ex)
            {
                console.Warn($"agent-sidecar: could not cancel the turn: {ex.Message}");
            }

            return;
        }

        lock (_lock)
        {
            // Before the request: the resolved event may come before its result, and says it was us.
            tracked.AnsweredHere = how;
        }

        try
        {
            var result = await conn.RequestAsync(CliProtocol.ChatApprove, new ChatApproveParams { SessionId = sessionId, ApprovalId = approval.ApprovalId, OptionId = choice.OptionId }, cancellationToken).ConfigureAwait(false);
            OnApproval(FromWire(result.Approval), ourTurn: true);
        }
        catch (CliRpcException ex)
        {
            // Answered meanwhile (its event says how), its prompt gone, the session no longer live:
            // the turn goes on (or ends) by itself; the chat goes on.
            if (!(ex.Code == ErrorCodes.SessionBusy && ex.ErrorData is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("status", out _)))
            {
                console.Warn($"agent-sidecar: could not answer \"{TurnItemPrinter.Clean(approval.Title)}\": {ex.Message}");
            }
        }
    }

    /// <summary>
    /// Reads the choice: the option, with "" as how (typed here); (null, "") when the approval was
    /// resolved elsewhere or the turn ended first; with no input left, the rejection <c>never</c> would choose.
    /// </summary>
    private async Task<(ApprovalOption? Choice, string How)> AskAsync(ChatApprovalData approval, Tracked tracked, Task turn, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            tracked.Asking = true;
        }

        try
        {
            return await ReadChoiceAsync(approval, tracked, turn, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                tracked.Asking = false;
            }
        }
    }

    private async Task<(ApprovalOption? Choice, string How)> ReadChoiceAsync(ChatApprovalData approval, Tracked tracked, Task turn, CancellationToken cancellationToken)
    {
        while (true)
        {
            console.Prompt(PromptText(approval.Options.Count));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var read = input.ReadLineAsync(stop.Token).AsTask();
            if (await Task.WhenAny(read, tracked.Resolved.Task, turn).ConfigureAwait(false) != read)
            {
                // Answered elsewhere (its outcome is printed from its event) or the turn is over.
                await stop.CancelAsync().ConfigureAwait(false);
                console.PromptWithdrawn();
                return (null, string.Empty);
            }

            var line = await read.ConfigureAwait(false);
            console.PromptAnswered(inputEchoed);
            if (line is null)
            {
                return (ApprovalModes.Choose(ApprovalModes.Never, approval.Options), "no input left: as --approve never");
            }

            if (ApprovalModes.Parse(line, approval.Options) is { } choice)
            {
                return (choice, string.Empty);
            }

            console.Print(p => p.Note($"Type a number from 1 to {approval.Options.Count.ToString(CultureInfo.InvariantCulture)}, or Enter for 1."));
        }
    }

    private static string PromptText(int count) => $"Choose 1-{count.ToString(CultureInfo.InvariantCulture)} (Enter: 1): ";

    private Tracked Track(string approvalId)
    {
        if (!_tracked.TryGetValue(approvalId, out var tracked))
        {
            tracked = new Tracked();
            _tracked[approvalId] = tracked;
        }

        return tracked;
    }

    /// <summary>chat/approve's result, as the event carries it.</summary>
    private static ChatApprovalData FromWire(ApprovalInfo a) => new()
    {
        TurnId = a.TurnId,
        ApprovalId = a.ApprovalId,
        ToolCallId = a.ToolCallId,
        Title = a.Title,
        Detail = a.Detail,
        Options = a.Options.Select(o => new ApprovalOption(o.OptionId, o.Label, o.Kind)).ToList(),
        Status = a.Status,
        ResolvedBy = a.ResolvedBy,
        OptionId = a.OptionId,
    };

    private sealed class Tracked
    {
        public bool Queued { get; set; }

        /// <summary>Its question waits for a typed choice.</summary>
        public bool Asking { get; set; }

        /// <summary>How this chat answered it ("" typed here, "--approve always" …); null if it did not.</summary>
        public string? AnsweredHere { get; set; }

        public TaskCompletionSource<ChatApprovalData> Resolved { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
