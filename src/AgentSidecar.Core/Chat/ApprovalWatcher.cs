using System.Text;
using System.Text.RegularExpressions;
using AgentSidecar.Core.Providers;

namespace AgentSidecar.Core.Chat;

/// <summary>
/// Follows the agent's approval prompts on its screen (the provider's <c>approvals</c> patterns):
/// one appears → a pending approval; it goes away → resolved, by whoever answered it. Problem: the
/// user may answer in the terminal, where only the keys are known. Solution: the keys typed since the
/// prompt appeared name the option (its own keys, or Enter on the line the selection marker is on);
/// an answer sent through the chat is noted before its keys are typed. Not thread-safe: the chat
/// controller calls it under its gate.
/// </summary>
internal sealed class ApprovalWatcher
{
    private const int MaxTypedChars = 256;
    private const int MaxRemembered = 64;

    /// <summary>How long a prompt must stay off the screen to count as answered (longer than a redraw).</summary>
    private const long GoneAfterMs = 150;

    private long? _missingSince;
    private (string OptionId, string By)? _goneWith;

    /// <summary>
    /// Problem: the limit is wall time, and on a saturated machine 50 ms passed while a plain pattern
    /// waited for a core; the timeout's exception then stopped the screen feed for good. Solution: a
    /// limit only a pathological (backtracking) pattern reaches, and the screen feed survives it.
    /// </summary>
    private static readonly TimeSpan RegexTimeout = Providers.ProviderPatterns.MatchTimeout;

    private readonly List<(ProviderApproval Spec, Regex Pattern)> _specs;
    private readonly Dictionary<string, ChatApprovalData> _resolved = new(StringComparer.Ordinal);
    private readonly Queue<string> _resolvedOrder = new();
    private readonly StringBuilder _typed = new();
    private ProviderApproval? _spec;
    private string _lastScreen = string.Empty;
    private volatile Tuple<string, string>? _answerBox;

    /// <summary>How the pending approval was answered from the sidecar's side (the chat, a cancel), if it was.</summary>
    private (string OptionId, string By)? _answer
    {
        get => _answerBox is { } a ? (a.Item1, a.Item2) : null;
        set => _answerBox = value is { } v ? Tuple.Create(v.OptionId, v.By) : null;
    }

    public ApprovalWatcher(ProviderProfile profile)
    {
        _specs = profile.Approvals.Select(a => (a, new Regex(a.Screen, RegexOptions.Multiline, RegexTimeout))).ToList();
    }

    /// <summary>The approval waiting for an answer, if any.</summary>
    public ChatApprovalData? Pending { get; private set; }

    /// <summary>When the pending prompt appeared (clock ms).</summary>
    public long PendingSince { get; private set; }

    /// <summary>How long the pending prompt must have been shown before an answer is typed.</summary>
    public int SettleMilliseconds => _spec?.SettleMilliseconds ?? 0;

    public bool HasPatterns => _specs.Count > 0;

    /// <summary>
    /// Looks at the screen: returns the approval as it now stands when it changed (a new one pending,
    /// or the pending one resolved), else null.
    /// </summary>
    public ChatApprovalData? Evaluate(string screen, string turnId, string? toolCallId, long now = 0)
    {
        if (Pending is { } pending)
        {
            if (_spec is not null && Matches(_specs.First(s => ReferenceEquals(s.Spec, _spec)).Pattern, screen) is not null)
            {
                _lastScreen = screen;
                _missingSince = null;
                _goneWith = null;
                return null;
            }

            // Problem: the screen is read while the agent redraws (a frame half applied), and the
            // prompt seemed to go and come back: a false "cancelled" and a second approval. Solution:
            // gone means gone for a moment; who answered is decided when it first went (keys typed
            // after it are not the answer).
            if (_missingSince is null)
            {
                _missingSince = now;
                _goneWith = _answer ?? FromTyped();
            }

            if (now - _missingSince < GoneAfterMs)
            {
                return null;
            }

            // No answer seen: the agent took the prompt away itself (a turn interrupted, or it gave up).
            var answer = _goneWith ?? _answer ?? FromTyped();
            var optionId = answer?.OptionId;
            var by = answer?.By ?? ApprovalResolvers.Agent;
            var kind = optionId is null ? null : pending.Options.First(o => o.OptionId == optionId).Kind;
            var resolved = pending with
            {
                Status = kind is null ? ApprovalStatuses.Cancelled : ApprovalOptionKinds.Allows(kind) ? ApprovalStatuses.Allowed : ApprovalStatuses.Rejected,
                ResolvedBy = by,
                OptionId = optionId,
            };
            Forget(resolved);
            return resolved;
        }

        foreach (var (spec, pattern) in _specs)
        {
            if (Matches(pattern, screen) is not { } m)
            {
                continue;
            }

            _spec = spec;
            PendingSince = now;
            _lastScreen = screen;
            ClearTyped();
            _answer = null;
            _missingSince = null;
            _goneWith = null;
            Pending = new ChatApprovalData
            {
                TurnId = turnId,
                ApprovalId = "a" + Guid.CreateVersion7().ToString("N"),
                ToolCallId = toolCallId,
                Title = Group(m, "title") ?? spec.Title,
                Detail = Group(m, "detail") ?? m.Value.Trim(),
                Options = spec.Options.Select(o => new ApprovalOption(o.OptionId, o.Label, o.Kind)).ToList(),
                Status = ApprovalStatuses.Pending,
            };
            return Pending;
        }

        return null;
    }

    /// <summary>
    /// The pending approval, now naming the call it asks about, when it was seen before the
    /// transcript recorded that call (the prompt and the record race); null if nothing changed.
    /// </summary>
    public ChatApprovalData? AttachTool(string toolCallId, string? command)
    {
        if (Pending is not { ToolCallId: null } pending)
        {
            return null;
        }

        Pending = pending with { ToolCallId = toolCallId, Detail = command ?? pending.Detail };
        return Pending;
    }

    /// <summary>
    /// The pending approval with the exact command of the call it asks about (the screen may show it
    /// wrapped or cut); null if nothing changed.
    /// </summary>
    public ChatApprovalData? WithCommand(string command)
    {
        if (Pending is not { } pending || pending.Detail == command)
        {
            return null;
        }

        Pending = pending with { Detail = command };
        return Pending;
    }

    /// <summary>
    /// The turn ended while its prompt waited (or in the moment a gone prompt is given): the approval
    /// is over with it. The answer seen counts; a cancel by the user is a rejection (its Esc answers
    /// the prompt so); else the agent took the prompt away.
    /// </summary>
    public ChatApprovalData? EndWithTurn(bool cancelledByUser)
    {
        if (Pending is not { } pending)
        {
            return null;
        }

        var reject = RejectOption();
        var answer = _goneWith ?? _answer ?? FromTyped() ?? (cancelledByUser && reject is not null ? (reject, ApprovalResolvers.Chat) : null);
        var kind = answer is { } a ? pending.Options.First(o => o.OptionId == a.OptionId).Kind : null;
        var resolved = pending with
        {
            Status = kind is null ? ApprovalStatuses.Cancelled : ApprovalOptionKinds.Allows(kind) ? ApprovalStatuses.Allowed : ApprovalStatuses.Rejected,
            ResolvedBy = answer?.By ?? ApprovalResolvers.Agent,
            OptionId = answer?.OptionId,
        };
        Forget(resolved);
        return resolved;
    }

    /// <summary>
    /// A cancel interrupts the agent while its prompt waits: the interrupt key answers the prompt as
    /// a rejection (Esc does in every agent), and it is the user's, through the chat.
    /// </summary>
    public void CancelledByChat()
    {
        if (Pending is not null && _answer is null && RejectOption() is { } reject)
        {
            _answer = (reject, ApprovalResolvers.Chat);
        }
    }

    /// <summary>Keys the user typed into the agent's terminal (worker/input, any thread) while a prompt may wait.</summary>
    public void NoteKeys(string data)
    {
        if (Pending is null)
        {
            return;
        }

        lock (_typed)
        {
            _typed.Append(data);
            if (_typed.Length > MaxTypedChars)
            {
                _typed.Remove(0, _typed.Length - MaxTypedChars);
            }
        }
    }

    /// <summary>An approval that was pending once (resolved ones are remembered, the newest 64).</summary>
    public ChatApprovalData? Find(string approvalId) =>
        Pending is { } p && p.ApprovalId == approvalId ? p : _resolved.GetValueOrDefault(approvalId);

    /// <summary>Whether the pending approval's prompt is on <paramref name="screen"/>.</summary>
    public bool PromptShown(string screen) =>
        _spec is not null && Matches(_specs.First(s => ReferenceEquals(s.Spec, _spec)).Pattern, screen) is not null;

    /// <summary>The keys of an option of the pending approval, and notes that the chat (or a cancel) answers it so.</summary>
    public string Answer(string optionId, string by)
    {
        var option = _spec!.Options.First(o => o.OptionId == optionId);
        _answer = (optionId, by);
        return option.Keys;
    }

    /// <summary>The pending approval's first option that rejects (a cancel answers with it), if any.</summary>
    public string? RejectOption() =>
        _spec?.Options.FirstOrDefault(o => !ApprovalOptionKinds.Allows(o.Kind))?.OptionId;

    private (string OptionId, string By)? FromTyped()
    {
        string typed;
        lock (_typed)
        {
            typed = _typed.ToString();
        }

        if (typed.Length == 0 || _spec is null)
        {
            return null;
        }

        // The last option whose keys end what was typed, else Enter on the selected line.
        foreach (var o in _spec.Options.OrderByDescending(o => o.Keys.Length))
        {
            if (typed.TrimEnd('\r').EndsWith(o.Keys, StringComparison.Ordinal))
            {
                return (o.OptionId, ApprovalResolvers.Terminal);
            }
        }

        // Esc cancels a prompt in every agent's TUI: the first option that rejects.
        if (typed.EndsWith('\u001b') && _spec.Options.FirstOrDefault(o => !ApprovalOptionKinds.Allows(o.Kind)) is { } reject)
        {
            return (reject.OptionId, ApprovalResolvers.Terminal);
        }

        if (typed.EndsWith('\r') && _spec.SelectedMarker is { Length: > 0 } marker)
        {
            var selected = _lastScreen.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(marker, StringComparison.Ordinal) && _spec.Options.Any(o => l.Contains(o.Label, StringComparison.Ordinal)));
            if (selected is not null)
            {
                // "Yes" is in "Yes, and always allow" too: the longest label on the line is the option.
                return (_spec.Options.Where(o => selected.Contains(o.Label, StringComparison.Ordinal)).MaxBy(o => o.Label.Length)!.OptionId, ApprovalResolvers.Terminal);
            }
        }

        return null;
    }

    private void ClearTyped()
    {
        lock (_typed)
        {
            _typed.Clear();
        }
    }

    /// <summary>The pending approval is over: remembered as resolved, and nothing of it is kept.</summary>
    private void Forget(ChatApprovalData resolved)
    {
        Remember(resolved);
        Pending = null;
        _spec = null;
        _answer = null;
        _missingSince = null;
        _goneWith = null;
        ClearTyped();
    }

    private void Remember(ChatApprovalData approval)
    {
        _resolved[approval.ApprovalId] = approval;
        _resolvedOrder.Enqueue(approval.ApprovalId);
        if (_resolvedOrder.Count > MaxRemembered)
        {
            _resolved.Remove(_resolvedOrder.Dequeue());
        }
    }

    private static Match? Matches(Regex pattern, string screen)
    {
        try
        {
            var m = pattern.Match(screen);
            return m.Success ? m : null;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    /// <summary>A named group's text, without the box-drawing edge some agents draw long lines in.</summary>
    private static string? Group(Match m, string name) =>
        m.Groups[name] is { Success: true } g && g.Value.Trim().TrimStart('│', '┃').Trim() is { Length: > 0 } v ? v : null;
}
