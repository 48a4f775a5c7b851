using System.Text.Json.Serialization;

namespace AgentSidecar.Core.Providers;

/// <summary>
/// A provider is data: what to run and how to talk to it. The built-ins and user profiles are the
/// same type, read from JSON (camelCase) and documented in docs/providers.md.
/// </summary>
// Settable (not init) so that the source-generated deserialiser keeps the defaults of fields a
// partial profile leaves out.
public sealed record ProviderProfile
{
    public string Id { get; set; } = string.Empty;

    public string? DisplayName { get; set; }

    /// <summary>The program; <c>${VAR}</c> and <c>${VAR:-default}</c> are expanded from the environment.</summary>
    public string Command { get; set; } = string.Empty;

    public List<string> Args { get; set; } = [];

    /// <summary>Extra environment for the agent (values expanded like <see cref="Command"/>).</summary>
    public Dictionary<string, string> Env { get; set; } = [];

    /// <summary>Names of environment variables whose values must never appear in logs, events or metrics.</summary>
    public List<string> SecretEnv { get; set; } = [];

    /// <summary>How a model is passed, e.g. <c>["--model", "{model}"]</c>; empty: no model choice.</summary>
    public List<string> ModelArgs { get; set; } = [];

    /// <summary>How a conversation is resumed, e.g. <c>["resume", "{agentSessionId}"]</c>.</summary>
    public List<string> ResumeArgs { get; set; } = [];

    /// <summary>Arguments that print the version (for <c>provider/list</c>); empty: not asked.</summary>
    public List<string> VersionArgs { get; set; } = [];

    /// <summary>The agent is ready for input.</summary>
    public ProviderSignal? Ready { get; set; }

    /// <summary>The agent is working on a turn.</summary>
    public ProviderSignal? Busy { get; set; }

    /// <summary>The agent finished a turn (often the same as ready).</summary>
    public ProviderSignal? Done { get; set; }

    /// <summary>The agent reports that a turn failed (e.g. Codex's <c>state=error</c>).</summary>
    public ProviderSignal? Failed { get; set; }

    public ProviderInput Input { get; set; } = new();

    /// <summary>The key that interrupts a running turn (Esc for Codex and Auggie).</summary>
    public string Interrupt { get; set; } = "\u0003";

    public ProviderClear? Clear { get; set; }

    /// <summary>What makes the agent quit gracefully (typed as a message); null: SIGHUP.</summary>
    public string? Quit { get; set; }

    /// <summary>How many submit keys the quit command needs (Auggie's menu takes two).</summary>
    public int QuitEnters { get; set; } = 1;

    public ProviderTranscript? Transcript { get; set; }

    /// <summary>Where the answer starts on the screen (regex on a line), for the screen fallback.</summary>
    public string? AnswerPattern { get; set; }

    /// <summary>Lines of the screen that are the agent's chrome, never part of an answer (regexes).</summary>
    public List<string> ChromePatterns { get; set; } = [];

    /// <summary>How long the agent may take to become ready before the session fails.</summary>
    public double ReadyTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// A running turn whose agent shows no sign of work this long (no output, its busy pattern not on
    /// screen) ends <c>failed</c> with the screen's tail, so a lost done signal never leaves a turn
    /// (and every suspend or reset) waiting for good. 0 turns this off.
    /// </summary>
    public double TurnIdleSeconds { get; set; } = 120;

    /// <summary>How long the screen must stay unchanged for a done signal to count (screen fallback).</summary>
    public double StableMilliseconds { get; set; } = 300;

    public List<string> Features { get; set; } = [];

    /// <summary>
    /// Models to offer for <c>model</c> (the ACP door's model option lists them with the ones used
    /// before); the agent takes others too. Empty: only those used before.
    /// </summary>
    public List<string> Models { get; set; } = [];

    /// <summary>How the agent takes extra MCP servers (<c>session/start</c>'s <c>mcpServers</c>); null: it does not.</summary>
    public ProviderMcp? Mcp { get; set; }

    /// <summary>The prompts the agent shows when it asks before it acts (commands, edits), and how each answer is typed.</summary>
    public List<ProviderApproval> Approvals { get; set; } = [];

    [JsonIgnore]
    public bool IsAgent => Ready is not null;
}

/// <summary>A state signal: an OSC mark (regex over "code;payload") and/or a screen pattern (regex over the screen's text).</summary>
public sealed record ProviderSignal
{
    public string? Osc { get; set; }

    public string? Screen { get; set; }
}

public sealed record ProviderInput
{
    /// <summary>Wrap the text in bracketed paste (ESC[200~ … ESC[201~).</summary>
    public bool BracketedPaste { get; set; } = true;

    /// <summary>The submit key.</summary>
    public string Submit { get; set; } = "\r";

    /// <summary>The submit key must be a separate write after the text (else it becomes a newline).</summary>
    public bool SubmitSeparately { get; set; } = true;

    /// <summary>Pause between the text and a separate submit key.</summary>
    public int SubmitDelayMs { get; set; } = 50;

    /// <summary>The pause between a chat message's bracketed paste and its submit key; null: <see cref="SubmitDelayMs"/> (which the clear and quit commands keep).</summary>
    public int? PasteSubmitDelayMs { get; set; }
}

public sealed record ProviderClear
{
    /// <summary>The slash command that starts a new conversation (<c>/clear</c>, <c>/new</c>).</summary>
    public string Command { get; set; } = "/clear";

    /// <summary>How many submit keys it needs (Auggie's menu takes two).</summary>
    public int Enters { get; set; } = 1;
}

/// <summary>
/// An approval prompt as the agent draws it: <c>screen</c> (a multi-line regex over the screen's text)
/// matches while the prompt waits; its named groups <c>title</c> and <c>detail</c>, when present,
/// say what is asked. Each option is answered by typing its <c>keys</c>.
/// </summary>
public sealed record ProviderApproval
{
    public string Screen { get; set; } = string.Empty;

    /// <summary>The title when the pattern has no <c>title</c> group.</summary>
    public string Title { get; set; } = "Approval needed";

    /// <summary>
    /// What marks the selected option's line (e.g. <c>›</c>): when the user answers in the terminal
    /// with Enter alone, the option on that line is the answer.
    /// </summary>
    public string? SelectedMarker { get; set; }

    /// <summary>How long the prompt must have been shown before an answer is typed (agents that drop early keys).</summary>
    public int SettleMilliseconds { get; set; }

    public List<ProviderApprovalOption> Options { get; set; } = [];
}

public sealed record ProviderApprovalOption
{
    public string OptionId { get; set; } = string.Empty;

    public string Label { get; set; } = string.Empty;

    /// <summary><c>allow_once</c>, <c>allow_always</c>, <c>reject_once</c> or <c>reject_always</c>.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>What to type to choose it (e.g. <c>y</c>, <c>1</c>, Esc).</summary>
    public string Keys { get; set; } = string.Empty;
}

public sealed record ProviderTranscript
{
    /// <summary><c>codex-rollout</c>, <c>claude-jsonl</c>, <c>auggie-session</c>.</summary>
    public string Reader { get; set; } = string.Empty;

    /// <summary>Where the agent writes them (expanded; <c>~</c> is HOME).</summary>
    public string Dir { get; set; } = string.Empty;
}
