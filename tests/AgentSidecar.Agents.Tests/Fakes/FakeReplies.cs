using System.Diagnostics;
using System.Text.Json.Nodes;

namespace AgentSidecar.Tests.Fakes;

/// <summary>One HTTP request as the fake server received it.</summary>
public sealed record RecordedRequest(
    int Index,
    DateTimeOffset ReceivedAt,
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string BodyText,
    JsonNode? Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>How the fake ends an answer.</summary>
public enum FakeFailure
{
    /// <summary>Stream the whole answer and finish it properly.</summary>
    None,

    /// <summary>Answer with an HTTP error status and a small JSON error body; no stream.</summary>
    HttpError,

    /// <summary>Send the headers and <see cref="FakeReply.PiecesBeforeAbort"/> pieces, then drop the connection.</summary>
    AbortMidStream,

    /// <summary>Drop the connection before any response byte.</summary>
    AbortBeforeResponse,
}

/// <summary>What happened to a streamed answer.</summary>
public enum ReplyOutcome
{
    Completed,
    Failed,
    Aborted,

    /// <summary>The agent closed the connection while the fake was still streaming (e.g. the user pressed Esc).</summary>
    ClientDisconnected,

    /// <summary>The fake server was disposed while streaming.</summary>
    ServerStopped,
}

/// <summary>A scripted answer: its text, how it is paced, and how it ends.</summary>
public sealed record FakeReply
{
    /// <summary>Default number of deltas an answer is cut into.</summary>
    public const int DefaultPieces = 4;

    public required string Text { get; init; }

    /// <summary>How many deltas the text is cut into (at least 1).</summary>
    public int Pieces { get; init; } = DefaultPieces;

    /// <summary>Deltas are spread evenly over this time (zero: as fast as possible). Use it for cancel tests.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.Zero;

    /// <summary>Wait this long before the response headers.</summary>
    public TimeSpan FirstByteDelay { get; init; } = TimeSpan.Zero;

    public FakeFailure Failure { get; init; } = FakeFailure.None;

    public int ErrorStatusCode { get; init; } = 500;

    public int PiecesBeforeAbort { get; init; } = 1;

    /// <summary>
    /// Tool calls the model makes in this reply, after <see cref="Text"/> (which may be empty). The
    /// agent runs them and sends their output in its next request (see <see cref="FakeToolOutput"/>);
    /// queue the reply that answers that request, or let the server's default say <c>DONE:&lt;tool name&gt;</c>.
    /// </summary>
    public IReadOnlyList<FakeToolCall> ToolCalls { get; init; } = [];

    /// <summary>
    /// Claude Code only: the verdict of auto mode's server-side safety check for every tool call of this
    /// reply (sent as <c>message_delta.delta.safeguard_results</c>; beta <c>dangerous-tool-use-2026-09-03</c>),
    /// e.g. <see cref="ClaudeTools.NotFlagged"/> or <see cref="ClaudeTools.Flagged"/>. Null: no verdict, and
    /// Claude Code in auto mode then shows "Auto mode can't check actions in this session" for actions that need it.
    /// </summary>
    public JsonObject? Safeguard { get; init; }

    public bool HasToolCalls => ToolCalls.Count > 0;

    public static FakeReply Say(string text) => new() { Text = text };

    /// <summary>A reply that only calls tools (no text).</summary>
    public static FakeReply CallTools(params FakeToolCall[] calls) => new() { Text = string.Empty, Pieces = 1, ToolCalls = calls };

    /// <summary>A reply that says <paramref name="text"/> (may be empty), then calls <paramref name="call"/>.</summary>
    public static FakeReply CallTool(FakeToolCall call, string text = "") => new() { Text = text, ToolCalls = [call] };

    /// <summary>An answer streamed slowly: <paramref name="pieces"/> deltas spread over <paramref name="over"/>.</summary>
    public static FakeReply Slow(string text, TimeSpan over, int pieces = 20) =>
        new() { Text = text, Duration = over, Pieces = pieces };

    public static FakeReply Error(int statusCode = 500, string message = "fake failure") =>
        new() { Text = message, Failure = FakeFailure.HttpError, ErrorStatusCode = statusCode };

    public static FakeReply AbortAfter(string text, int piecesBeforeAbort = 1, int pieces = DefaultPieces) =>
        new() { Text = text, Pieces = pieces, Failure = FakeFailure.AbortMidStream, PiecesBeforeAbort = piecesBeforeAbort };

    public static FakeReply Drop() => new() { Text = string.Empty, Failure = FakeFailure.AbortBeforeResponse };

    /// <summary>The text cut into at most <see cref="Pieces"/> non-empty pieces (text elements kept whole).</summary>
    public IReadOnlyList<string> SplitPieces()
    {
        var elements = new List<string>();
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(Text);
        while (e.MoveNext())
        {
            elements.Add(e.GetTextElement());
        }

        if (elements.Count == 0)
        {
            return [string.Empty];
        }

        var count = Math.Clamp(Pieces, 1, elements.Count);
        var result = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var from = i * elements.Count / count;
            var to = (i + 1) * elements.Count / count;
            result.Add(string.Concat(elements.Skip(from).Take(to - from)));
        }

        return result;
    }
}

/// <summary>
/// One tool call in a scripted reply. <see cref="Arguments"/> is the JSON object of a function call
/// (Responses API <c>function_call.arguments</c>, Messages API <c>tool_use.input</c>, Auggie
/// <c>tool_use.input_json</c>); <see cref="Input"/> the text of a Responses API custom (freeform) tool
/// call such as Codex's <c>apply_patch</c>. The helpers for each agent's tools are in
/// <see cref="CodexTools"/>, <see cref="ClaudeTools"/> and <see cref="AuggieTools"/>.
/// </summary>
public sealed record FakeToolCall
{
    public required string Name { get; init; }

    public JsonObject? Arguments { get; init; }

    public string? Input { get; init; }

    /// <summary>The call id; null: the server makes one (<c>call_fake_N_K</c>, <c>toolu_fake_N_K</c>). <see cref="ServedReply.ToolCalls"/> has the ids used.</summary>
    public string? Id { get; init; }

    /// <summary>A Responses API custom tool call (freeform <see cref="Input"/>) rather than a function call.</summary>
    public bool IsCustom => Input is not null;

    public static FakeToolCall Function(string name, JsonObject arguments, string? id = null) => new() { Name = name, Arguments = arguments, Id = id };

    public static FakeToolCall Custom(string name, string input, string? id = null) => new() { Name = name, Input = input, Id = id };

    /// <summary>The arguments as the wire carries them: a JSON string (or the freeform input).</summary>
    internal string WireArguments => Input ?? (Arguments ?? []).ToJsonString();

    internal JsonObject ArgumentsOrEmpty => (JsonObject?)Arguments?.DeepClone() ?? [];
}

/// <summary>
/// A tool's result as the agent sent it back to the model in a later request: Codex's
/// <c>function_call_output</c>/<c>custom_tool_call_output</c> item, Claude Code's <c>tool_result</c> block,
/// Auggie's <c>tool_result_node</c>. <see cref="Name"/> is the called tool's name (found in the request's
/// history), <see cref="Output"/> the text the model gets.
/// </summary>
public sealed record FakeToolOutput(RecordedRequest Request, string CallId, string? Name, string Output, bool IsError, JsonNode Raw)
{
    /// <summary>
    /// The exit code in the output, when the agent reports one: Codex <c>exec_command</c>
    /// ("Process exited with code N"), Codex <c>apply_patch</c> ("Exit code: N"), Auggie
    /// <c>launch-process</c> ("&lt;return-code&gt;N&lt;/return-code&gt;"), Claude Code's Bash only when it
    /// failed ("Exit code N" as the first line, with <see cref="IsError"/>; a success says no code: null).
    /// </summary>
    public int? ExitCode =>
        System.Text.RegularExpressions.Regex.Match(Output, @"(?:Process exited with code |Exit code:? |<return-code>\s*)(-?\d+)") is { Success: true } m
            ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>A default final answer for a request that brings a tool's output back: <c>DONE:&lt;tool name&gt;</c>.</summary>
    public FakeReply DefaultAnswer() => FakeReply.Say("DONE:" + (Name ?? CallId));

    /// <summary>The text of a tool output / result content: a string, or the text parts of an array.</summary>
    internal static string TextOf(JsonNode? content) => content switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray parts => string.Concat(parts.OfType<JsonObject>().Select(p => p["text"]?.GetValue<string>() ?? string.Empty)),
        null => string.Empty,
        _ => content.ToJsonString(),
    };

    /// <summary>The outputs of every request (one list per request), each call id once (later requests repeat the history), in order.</summary>
    internal static IReadOnlyList<FakeToolOutput> Distinct(IEnumerable<IEnumerable<FakeToolOutput>> perRequest)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<FakeToolOutput>();
        foreach (var output in perRequest.SelectMany(o => o))
        {
            if (seen.Add(output.CallId))
            {
                result.Add(output);
            }
        }

        return result;
    }
}

/// <summary>A finished (or broken) streamed answer, with timings for latency measurements.</summary>
public sealed record ServedReply(
    RecordedRequest Request,
    bool IsTitle,
    string Text,
    ReplyOutcome Outcome,
    long StartTimestamp,
    long FirstByteTimestamp,
    long LastByteTimestamp,
    DateTimeOffset LastByteAt)
{
    /// <summary>The tool calls this answer made, with the call ids the agent got.</summary>
    public IReadOnlyList<FakeToolCall> ToolCalls { get; init; } = [];

    /// <summary>From the request's arrival to the last byte of the answer.</summary>
    public TimeSpan ServeTime => Stopwatch.GetElapsedTime(StartTimestamp, LastByteTimestamp);
}
