using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// Codex rollout lines: <c>{"timestamp","type","payload"}</c>. One source per item kind so nothing is doubled:
/// user/assistant text from <c>response_item</c> messages (not the <c>item_completed</c> events that repeat
/// them), usage from <c>event_msg token_count</c> (not <c>token_usage_record</c>), turn ends from
/// <c>task_complete</c> / <c>turn_aborted</c>, tool calls from <c>response_item</c> call items.
/// </summary>
internal sealed class CodexRolloutParser : ITranscriptLineParser
{
    // Codex injects these as role "user" messages; older versions had no content_item_kinds to tell them apart.
    private static readonly string[] InjectedPrefixes =
    [
        "<environment_context>", "<user_instructions>", "<turn_aborted>", "<user_shell_command>", "# AGENTS.md instructions",
    ];

    private UsageTotals? _lastTotal;

    public string? AgentSessionId { get; private set; }

    public void Parse(JsonElement line, List<TranscriptItem> items)
    {
        var ts = TranscriptJson.Time(line.Str("timestamp"));
        var payload = line.Prop("payload");
        switch (line.Str("type"))
        {
            case "session_meta":
                SessionMeta(payload, ts, items);
                break;
            case "response_item":
                ResponseItem(payload, ts, items);
                break;
            case "event_msg":
                EventMsg(payload, ts, items);
                break;
        }
    }

    private void SessionMeta(JsonElement payload, DateTimeOffset? ts, List<TranscriptItem> items)
    {
        // Only the first: a resumed or forked thread may repeat session_meta lines.
        if (AgentSessionId is not null || (payload.Str("id") ?? payload.Str("session_id")) is not { } id)
        {
            return;
        }
        AgentSessionId = id;
        items.Add(new SessionStarted(id, payload.Str("cwd"), ts));
    }

    private static void ResponseItem(JsonElement payload, DateTimeOffset? ts, List<TranscriptItem> items)
    {
        switch (payload.Str("type"))
        {
            case "message" when payload.Str("role") == "user":
                if (HumanText(payload) is { } text)
                {
                    items.Add(new UserMessage(text, ts));
                }
                break;
            case "message" when payload.Str("role") == "assistant":
                var answer = TranscriptJson.JoinText(payload.Items("content")
                    .Where(c => c.Str("type") == "output_text")
                    .Select(c => c.Str("text")));
                if (answer is not null)
                {
                    items.Add(new AssistantMessage(answer, ts));
                }
                break;
            case "function_call":
                items.Add(new ToolCall(payload.Str("name") ?? "unknown", ts) { CallId = payload.Str("call_id"), Arguments = payload.Str("arguments") });
                break;
            case "custom_tool_call":
                items.Add(new ToolCall(payload.Str("name") ?? "unknown", ts) { CallId = payload.Str("call_id"), Arguments = payload.Str("input") });
                break;
            case "function_call_output" or "custom_tool_call_output" when payload.Str("call_id") is { } callId:
                items.Add(CodexToolOutput.Read(callId, payload.Prop("output"), ts));
                break;
            case "local_shell_call":
                items.Add(new ToolCall("local_shell", ts));
                break;
            case "web_search_call":
                items.Add(new ToolCall("web_search", ts));
                break;
        }
    }

    /// <summary>The text parts the human typed, or null for injected context (environment, aborts...).</summary>
    private static string? HumanText(JsonElement payload)
    {
        var content = payload.Items("content").ToList();
        var kinds = payload.Prop("internal_chat_message_metadata_passthrough").Prop("content_item_kinds");
        if (kinds.ValueKind == JsonValueKind.Array)
        {
            // content_item_kinds runs parallel to content: keep the parts marked "user.text".
            var kindList = kinds.EnumerateArray().Select(k => k.ValueKind == JsonValueKind.String ? k.GetString() : null).ToList();
            if (!kindList.Contains("user.text"))
            {
                return null;
            }
            var parallel = kindList.Count == content.Count;
            return TranscriptJson.JoinText(content
                .Where((c, i) => c.Str("type") == "input_text" && (!parallel || kindList[i] == "user.text"))
                .Select(c => c.Str("text")));
        }
        var text = TranscriptJson.JoinText(content.Where(c => c.Str("type") == "input_text").Select(c => c.Str("text")));
        if (text is null)
        {
            return null;
        }
        var trimmed = text.TrimStart();
        return InjectedPrefixes.Any(p => trimmed.StartsWith(p, StringComparison.Ordinal)) ? null : text;
    }

    private void EventMsg(JsonElement payload, DateTimeOffset? ts, List<TranscriptItem> items)
    {
        switch (payload.Str("type"))
        {
            case "task_complete":
                items.Add(new TurnCompleted(payload.Str("last_agent_message"), payload.Long("duration_ms"), ts));
                break;
            case "turn_aborted":
                items.Add(new TurnAborted(payload.Str("reason"), ts));
                break;
            case "token_count":
                TokenCount(payload.Prop("info"), ts, items);
                break;
        }
    }

    private void TokenCount(JsonElement info, DateTimeOffset? ts, List<TranscriptItem> items)
    {
        // token_count is also sent for rate-limit updates (info null) and can repeat the same numbers:
        // an unchanged running total means no new model response.
        var total = UsageTotals.From(info.Prop("total_token_usage"));
        var last = UsageTotals.From(info.Prop("last_token_usage"));
        if (total is not null && total == _lastTotal)
        {
            return;
        }
        var delta = last ?? (total is { } t && _lastTotal is { } p ? t - p : total);
        _lastTotal = total ?? _lastTotal;
        if (delta is { } d && (d.Input > 0 || d.Output > 0 || d.Cached > 0))
        {
            // OpenAI counts cached tokens inside input_tokens, which is what UsageReported means too.
            items.Add(new UsageReported(d.Input, d.Output, d.Cached, ts));
        }
    }

    private readonly record struct UsageTotals(long Input, long Output, long Cached)
    {
        public static UsageTotals? From(JsonElement e) => e.ValueKind == JsonValueKind.Object
            ? new UsageTotals(e.Long("input_tokens") ?? 0, e.Long("output_tokens") ?? 0, e.Long("cached_input_tokens") ?? 0)
            : null;

        public static UsageTotals operator -(UsageTotals a, UsageTotals b) =>
            new(Math.Max(0, a.Input - b.Input), Math.Max(0, a.Output - b.Output), Math.Max(0, a.Cached - b.Cached));
    }
}
