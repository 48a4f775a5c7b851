using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// Claude Code transcript lines (<c>type</c> user / assistant / system / summary / metadata kinds).
/// A turn ends with the <c>system</c> line of subtype <c>turn_duration</c> (Claude Code 2.1 writes it
/// right after the answer), or with an assistant <c>stop_reason: "end_turn"</c> for versions without it:
/// that one waits for the next line so a following turn_duration can supply the duration. Real
/// streamed answers often carry <c>stop_reason: null</c>, so end_turn alone is not relied on.
/// </summary>
internal sealed class ClaudeJsonlParser : ITranscriptLineParser
{
    private const int RememberedMessages = 256;

    // Wrappers Claude Code stores as user messages for slash commands, `!` shell mode and `#` memory input.
    private static readonly string[] WrapperPrefixes =
    [
        "<command-", "<local-command-", "<bash-input>", "<bash-stdout>", "<bash-stderr>", "<user-memory-input>",
    ];

    private readonly Dictionary<string, UsageSeen> _usageByMessage = [];
    private readonly Queue<string> _usageOrder = new();
    private bool _started;
    private bool _turnOpen;
    private string? _lastText;
    private PendingEnd? _pendingEnd;

    public string? AgentSessionId { get; private set; }

    public void Parse(JsonElement line, List<TranscriptItem> items)
    {
        var type = line.Str("type");
        var ts = TranscriptJson.Time(line.Str("timestamp"));
        AgentSessionId ??= line.Str("sessionId");
        var cwd = line.Str("cwd");
        // The first lines ("mode", snapshots) carry no cwd: announce the session with the first line that does.
        if (!_started && AgentSessionId is not null && (cwd is not null || type is "user" or "assistant"))
        {
            _started = true;
            items.Add(new SessionStarted(AgentSessionId, cwd, ts));
        }
        bool sidechain = line.Bool("isSidechain") == true;
        switch (type)
        {
            case "user" when !sidechain:
                User(line, ts, items);
                break;
            case "assistant":
                Assistant(line, ts, sidechain, items);
                break;
            case "system" when !sidechain && line.Str("subtype") == "turn_duration":
                if (_turnOpen)
                {
                    items.Add(new TurnCompleted(_pendingEnd?.Text ?? _lastText, line.Long("durationMs"), ts));
                    CloseTurn();
                }
                break;
        }
    }

    private void User(JsonElement line, DateTimeOffset? ts, List<TranscriptItem> items)
    {
        if (line.Bool("isMeta") == true || line.Bool("isCompactSummary") == true)
        {
            return;
        }
        var content = line.Prop("message").Prop("content");
        string? text;
        if (content.ValueKind == JsonValueKind.String)
        {
            text = content.GetString();
        }
        else
        {
            var blocks = content.ValueKind == JsonValueKind.Array ? content.EnumerateArray().ToList() : [];
            if (blocks.Any(b => b.Str("type") == "tool_result"))
            {
                // Tool output going back to the model, not typed by anyone: the call's result.
                foreach (var block in blocks.Where(b => b.Str("type") == "tool_result" && b.Str("tool_use_id") is not null))
                {
                    var details = line.Prop("toolUseResult");
                    var output = ResultText(block.Prop("content"));
                    var failed = block.Bool("is_error") == true;
                    items.Add(new ToolResult(block.Str("tool_use_id")!, output, failed, ExitCode(output, failed, details), ts)
                    {
                        Details = details.ValueKind == JsonValueKind.Object ? details.GetRawText() : null,
                    });
                }

                return;
            }
            text = TranscriptJson.JoinText(blocks.Where(b => b.Str("type") == "text").Select(b => b.Str("text")));
        }
        var trimmed = text?.TrimStart();
        if (string.IsNullOrEmpty(trimmed))
        {
            return;
        }
        FlushPendingEnd(items);
        if (trimmed.StartsWith("[Request interrupted by user", StringComparison.Ordinal))
        {
            if (_turnOpen)
            {
                items.Add(new TurnAborted("interrupted", ts));
                CloseTurn();
            }
            return;
        }
        if (WrapperPrefixes.Any(p => trimmed.StartsWith(p, StringComparison.Ordinal)))
        {
            return;
        }
        items.Add(new UserMessage(text!, ts));
        _turnOpen = true;
        _lastText = null;
    }

    private void Assistant(JsonElement line, DateTimeOffset? ts, bool sidechain, List<TranscriptItem> items)
    {
        var message = line.Prop("message");
        var id = message.Str("id");
        if (_pendingEnd is { } pending && pending.MessageId != id)
        {
            FlushPendingEnd(items);
        }
        if (sidechain)
        {
            Usage(id, message.Prop("usage"), ts, items); // a subagent's tokens are still this session's cost
            return;
        }
        var content = message.Prop("content");
        var blocks = content.ValueKind == JsonValueKind.Array ? content.EnumerateArray().ToList() : [];
        var text = content.ValueKind == JsonValueKind.String
            ? content.GetString()
            : TranscriptJson.JoinText(blocks.Where(b => b.Str("type") == "text").Select(b => b.Str("text")));
        if (line.Bool("isApiErrorMessage") == true)
        {
            // Claude Code writes a failed request as a synthetic assistant message: not an answer.
            if (_turnOpen)
            {
                items.Add(new TurnAborted(text ?? "api error", ts));
                CloseTurn();
            }
            return;
        }
        if (!string.IsNullOrWhiteSpace(text))
        {
            items.Add(new AssistantMessage(text, ts));
            _lastText = text;
        }
        foreach (var block in blocks)
        {
            if (block.Str("type") is "tool_use" or "server_tool_use")
            {
                var input = block.Prop("input");
                items.Add(new ToolCall(block.Str("name") ?? "unknown", ts)
                {
                    CallId = block.Str("id"),
                    Arguments = input.ValueKind == JsonValueKind.Object ? input.GetRawText() : null,
                });
            }
        }
        Usage(id, message.Prop("usage"), ts, items);
        if (_turnOpen && message.Str("stop_reason") == "end_turn")
        {
            _pendingEnd = new PendingEnd(id, _lastText, ts);
        }
    }

    /// <summary>A shell command's exit code: "Exit code N" starts a failed Bash result; a Bash result with stdout succeeded.</summary>
    private static int? ExitCode(string? output, bool failed, JsonElement details)
    {
        if (failed && output is not null && output.StartsWith("Exit code ", StringComparison.Ordinal)
            && int.TryParse(output.AsSpan(10, output.IndexOfAny(['\n', ' '], 10) is var end and > 10 ? end - 10 : output.Length - 10), out var code))
        {
            return code;
        }

        return !failed && details.ValueKind == JsonValueKind.Object && details.Prop("stdout").ValueKind == JsonValueKind.String ? 0 : null;
    }

    /// <summary>A tool_result's content: a string, or text blocks.</summary>
    private static string? ResultText(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString(),
        JsonValueKind.Array => TranscriptJson.JoinText(content.EnumerateArray().Where(b => b.Str("type") == "text").Select(b => b.Str("text"))),
        _ => null,
    };

    /// <summary>
    /// One message can be written as several lines (one per content block) that repeat its usage,
    /// possibly growing: report only what is new for that message id.
    /// </summary>
    private void Usage(string? messageId, JsonElement usage, DateTimeOffset? ts, List<TranscriptItem> items)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        long cacheRead = usage.Long("cache_read_input_tokens") ?? 0;
        // Anthropic's input_tokens excludes cache reads and writes; UsageReported counts all input.
        var now = new UsageSeen(
            (usage.Long("input_tokens") ?? 0) + (usage.Long("cache_creation_input_tokens") ?? 0) + cacheRead,
            usage.Long("output_tokens") ?? 0,
            cacheRead);
        var before = new UsageSeen(0, 0, 0);
        if (messageId is not null)
        {
            if (_usageByMessage.TryGetValue(messageId, out var seen))
            {
                before = seen;
            }
            else
            {
                _usageOrder.Enqueue(messageId);
                if (_usageOrder.Count > RememberedMessages)
                {
                    _usageByMessage.Remove(_usageOrder.Dequeue());
                }
            }
            _usageByMessage[messageId] = new UsageSeen(
                Math.Max(before.Input, now.Input), Math.Max(before.Output, now.Output), Math.Max(before.Cached, now.Cached));
        }
        long input = Math.Max(0, now.Input - before.Input);
        long output = Math.Max(0, now.Output - before.Output);
        long cached = Math.Max(0, now.Cached - before.Cached);
        if (input > 0 || output > 0 || cached > 0)
        {
            items.Add(new UsageReported(input, output, cached, ts));
        }
    }

    private void FlushPendingEnd(List<TranscriptItem> items)
    {
        if (_pendingEnd is { } pending)
        {
            items.Add(new TurnCompleted(pending.Text, null, pending.Ts));
            CloseTurn();
        }
    }

    private void CloseTurn()
    {
        _turnOpen = false;
        _pendingEnd = null;
        _lastText = null;
    }

    private readonly record struct UsageSeen(long Input, long Output, long Cached);

    private readonly record struct PendingEnd(string? MessageId, string? Text, DateTimeOffset? Ts);
}
