using System.Text.RegularExpressions;
using System.Threading.Channels;
using AgentSidecar.Core.Providers;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Core.Transcripts;
using AgentSidecar.Store;
using AgentSidecar.Terminal.Pty;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Chat;

/// <summary>
/// Drives chat with one agent process: knows when it is ready, types messages into it, and decides
/// when a turn is over from the provider's signals (OSC marks, screen patterns), the agent's own
/// transcript (preferred for the text) and the emulated screen (fallback and streaming deltas).
/// All decisions run in one loop, woken by screen updates and a short timer while a turn runs.
/// </summary>
internal sealed partial class ChatController : IAsyncDisposable
{
    /// <summary>Poll the transcript this often while a turn runs (a stat when nothing changed).</summary>
    private const int BusyPollMs = 10;

    /// <summary>…and this often otherwise, to notice turns typed straight into the terminal.</summary>
    private const int IdlePollMs = 250;

    /// <summary>After a done signal, how long the transcript may lag before the screen's text is used.</summary>
    private const int TranscriptGraceMs = 750;

    /// <summary>How long an interrupted agent may take to show it stopped.</summary>
    private const int CancelTimeoutMs = 5000;

    /// <summary>Streaming deltas at most this often.</summary>
    private const int DeltaIntervalMs = 40;

    /// <summary>Screen lines kept above the visible screen for agents that draw inline.</summary>
    private const int ScrollbackLinesForAnswers = 300;

    /// <summary>
    /// Problem: the limit is wall time, and on a saturated machine 50 ms passed while a plain pattern
    /// waited for a core; the timeout's exception then stopped the screen feed for good. Solution: a
    /// limit only a pathological (backtracking) pattern reaches, and the screen feed survives it.
    /// </summary>
    private static readonly TimeSpan RegexTimeout = Providers.ProviderPatterns.MatchTimeout;

    private readonly LiveSession _live;
    private readonly LiveWorker _agent;
    private readonly WorkerScreen _screen;
    private readonly ProviderProfile _profile;
    private readonly StoreWriter _writer;
    private readonly TimeProvider _clock;
    private readonly ITranscriptSource? _transcript;
    private readonly ChatReports _reports;
    private readonly ILogger _logger;
    private readonly ScreenAnswer _answer;
    private readonly ApprovalWatcher _approvals;
    private readonly ToolTracker _tools;
    private readonly Regex? _readyOsc;
    private readonly Regex? _readyScreen;
    private readonly Regex? _busyOsc;
    private readonly Regex? _busyScreen;
    private readonly Regex? _doneOsc;
    private readonly Regex? _doneScreen;
    private readonly Regex? _failedOsc;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile bool _oscReady;
    /// <summary>Turns that ended before the agent recorded them: remembered to recognise their late record.</summary>
    private const int MaxUnrecordedTurns = 8;

    private readonly List<string> _finishedUnrecorded = [];
    private Turn? _turn;

    /// <summary>Set by <see cref="TryHoldTurnsAsync"/>: the session is being stopped.</summary>
    private volatile bool _held;

    private static readonly TimeSpan HoldWait = TimeSpan.FromSeconds(1);

    /// <summary>The turn the transcript's items are being applied to (null: ignore them).</summary>
    private Turn? _transcriptTurn;
    private string? _knownAgentSessionId;

    /// <summary>The conversation whose end the agent was last seen to report (reported once each).</summary>
    private int _reportedMoveOn = -1;

    /// <summary>When the agent last wrote to its transcript (unix ms): a sign of work.</summary>
    private long _lastTranscriptAt;

    public ChatController(LiveSession live, LiveWorker agent, WorkerScreen screen, ProviderProfile profile, StoreWriter writer, TimeProvider clock, ITranscriptSource? transcript, ChatReports reports, ILogger logger)
    {
        _live = live;
        _agent = agent;
        _screen = screen;
        _profile = profile;
        _writer = writer;
        _clock = clock;
        _transcript = transcript;
        _reports = reports;
        _logger = logger;
        _answer = new ScreenAnswer(profile);
        _approvals = new ApprovalWatcher(profile);
        _tools = new ToolTracker(Sessions.Workspace.AgentCwd(live.Row));
        _readyOsc = Compile(profile.Ready?.Osc);
        _readyScreen = Compile(profile.Ready?.Screen);
        _busyOsc = Compile(profile.Busy?.Osc);
        _busyScreen = Compile(profile.Busy?.Screen);
        _doneOsc = Compile(profile.Done?.Osc);
        _doneScreen = Compile(profile.Done?.Screen);
        _failedOsc = Compile(profile.Failed?.Osc);
        screen.SubscribeOsc(OnOsc);
        screen.Updated += Wake;
        _loop = Task.Run(LoopAsync);
    }

    public bool Busy => _turn is not null;

    public bool IsReady => _ready.Task.IsCompletedSuccessfully && _ready.Task.Result;

    /// <summary>True once the agent is ready for input; false if it exited or <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var first = await Task.WhenAny(_ready.Task, Task.Delay(timeout, _clock, stop.Token)).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return first == _ready.Task && _ready.Task.Result;
    }

    /// <summary>Waits until no turn runs, or <paramref name="timeout"/> passes.</summary>
    public async Task WaitIdleAsync(TimeSpan timeout)
    {
        if (_turn is { } turn)
        {
            await Task.WhenAny(turn.Result.Task, Task.Delay(timeout, _clock)).ConfigureAwait(false);
        }
    }

    /// <summary>Types <paramref name="text"/> into the agent and completes when the turn ends.</summary>
    public async Task<TurnResult> SendAsync(string text, CancellationToken cancellationToken)
    {
        if (!IsReady && !await WaitReadyAsync(TimeSpan.FromSeconds(_profile.ReadyTimeoutSeconds), cancellationToken).ConfigureAwait(false))
        {
            throw new SidecarException(SidecarError.InvalidState, $"the {_profile.DisplayName} agent is not ready for input");
        }

        Turn turn;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_held)
            {
                throw new SidecarException(SidecarError.InvalidState, "the session is being stopped (reset, cleanup or suspend); no new turn starts");
            }

            if (_turn is { } running)
            {
                throw new SidecarException(SidecarError.SessionBusy, $"a turn is already running ({running.Id}); wait for it or cancel it (chat/cancel)", new Dictionary<string, object?> { ["turnId"] = running.Id });
            }

            turn = new Turn(NewTurnId(), text, "chat", Now());
            _turn = turn;
            await _writer.AppendAsync(ChatEvents.User(_agent.SessionId, turn.Id, text, "chat")).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        _reports.Changed();
        _agent.LastInputAt = Now();

        // Set before typing: a fast agent's working/done marks can arrive before TypeAsync returns.
        turn.InputSent = true;
        try
        {
            await TypeAsync(text).ConfigureAwait(false);
        }
        catch (SidecarException ex)
        {
            // Problem: the agent could go away between the ready check and the typing; the turn,
            // already recorded, then stayed running for good and every later message was refused
            // as busy. Solution: it ends failed, with the reason, before the client hears of it.
            await FailUntypedAsync(turn, ex.Message).ConfigureAwait(false);
            throw;
        }

        Wake();
        BackgroundWork.Run(_logger, $"resubmitting turn {turn.Id} if the agent ignored it", () => ResubmitIfIgnoredAsync(turn));
        using (cancellationToken.Register(() => _ = CancelAsync()))
        {
            return await turn.Result.Task.ConfigureAwait(false);
        }
    }

    private async Task FailUntypedAsync(Turn turn, string reason)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (ReferenceEquals(_turn, turn))
            {
                await FinishAsync(turn, "failed", string.Empty, "screen", $"the message could not be typed into the agent: {reason}").ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Closes the session to new turns if none runs (reset and cleanup must see every session idle at
    /// once); false if a turn is running.
    /// </summary>
    public async Task<bool> TryHoldTurnsAsync()
    {
        if (!await _gate.WaitAsync(HoldWait).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            if (_turn is not null)
            {
                return false;
            }

            _held = true;
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void ReleaseTurns() => _held = false;

    /// <summary>Interrupts the running turn (the provider's interrupt key); the turn ends <c>cancelled</c>.</summary>
    public async Task CancelAsync()
    {
        if (_turn is { Cancelling: false } && _approvals.Pending is not null)
        {
            await RejectPendingAsync().ConfigureAwait(false);
        }

        if (_turn is { Cancelling: false } turn)
        {
            turn.CancelAt = Now();
            turn.Cancelling = true;
            _approvals.CancelledByChat();
            _agent.Process?.Write(System.Text.Encoding.UTF8.GetBytes(_profile.Interrupt));
            Wake();
        }
    }

    /// <summary>The conversation was cleared: the agent starts a new transcript at its next message.</summary>
    public async Task ConversationClearedAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _transcript?.Restart(_clock.GetUtcNow());
            _transcriptTurn = null;
            _finishedUnrecorded.Clear();
            _knownAgentSessionId = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The agent process ended: a running turn fails with the reason.</summary>
    public async Task AgentExitedAsync(PtyExit exit)
    {
        _ready.TrySetResult(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_turn is { } turn)
            {
                var reason = exit.Signal is { } s ? $"the agent was killed by signal {s}" : $"the agent exited with code {exit.ExitCode}";
                await FinishAsync(turn, "failed", turn.TranscriptAnswers.Count > 0 ? string.Join("\n\n", turn.TranscriptAnswers) : turn.ScreenText, "screen", reason).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _screen.OscReceived -= OnOsc;
        _screen.Updated -= Wake;
        _ready.TrySetResult(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_turn is { } turn)
        {
            turn.Result.TrySetResult(new TurnResult(turn.Id, "failed", turn.ScreenText, Now() - turn.StartedAt, _agent.SessionId, "the session ended"));
        }

        _stop.Dispose();
    }

    private static string NewTurnId() => "t" + Guid.CreateVersion7().ToString("N");

    private static Regex? Compile(string? pattern) =>
        pattern is null ? null : new Regex(pattern, RegexOptions.Multiline, RegexTimeout);

    private long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private void Wake() => _wake.Writer.TryWrite(true);

    private async Task LoopAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            var interval = _turn is null ? IdlePollMs : BusyPollMs;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(interval);
                try
                {
                    await _wake.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                }
            }

            try
            {
                await EvaluateAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogEvaluateFailed(_logger, ex, _live.Id);
            }
        }
    }

    private async Task EvaluateAsync()
    {
        await _gate.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            if (!_ready.Task.IsCompleted && (_oscReady || (_readyScreen?.IsMatch(_screen.Text()) ?? false)))
            {
                _ready.TrySetResult(true);
            }

            if (_transcript is not null)
            {
                // The agent started a new conversation that no typed key showed (a clear picked from
                // its menu, recalled from history): reported once, the transition follows.
                var generation = _reports.Generation();
                if (_reportedMoveOn != generation && _transcript.AgentMovedOn())
                {
                    _reportedMoveOn = generation;
                    _reports.NewConversation(generation);
                }

                foreach (var item in _transcript.Poll())
                {
                    _lastTranscriptAt = Now();
                    await OnTranscriptAsync(item).ConfigureAwait(false);
                }
            }

            if (_turn is { } turn)
            {
                await EvaluateTurnAsync(turn).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "chat evaluation failed for session {SessionId}")]
    private static partial void LogEvaluateFailed(ILogger logger, Exception ex, string sessionId);
}
