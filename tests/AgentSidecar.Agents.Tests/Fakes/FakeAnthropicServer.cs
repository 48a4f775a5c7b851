using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.Tests.Fakes;

/// <summary>One message of a Messages API <c>messages</c> array, its text parts joined (reminders left out).</summary>
public sealed record AnthropicMessage(string Role, string Text);

/// <summary>A <c>POST /v1/messages</c> request seen through Claude Code's eyes.</summary>
public sealed record AnthropicTurn(
    RecordedRequest Request,
    bool IsSideRequest,
    JsonObject? OutputSchema,
    string LastUserText,
    IReadOnlyList<AnthropicMessage> Messages)
{
    /// <summary>Every <c>tool_result</c> in this request's messages (the whole history), in order.</summary>
    public IReadOnlyList<FakeToolOutput> ToolOutputs { get; init; } = [];

    /// <summary>
    /// The tool result this request brings back, or null for a request that starts from a user message:
    /// the last <c>tool_result</c> of the last <em>user</em> message (Claude Code may put system messages,
    /// e.g. "# Environment update", after it).
    /// </summary>
    public FakeToolOutput? ToolOutput { get; init; }

    /// <summary>Prefix of the context blocks Claude Code puts into user messages (never typed by the user).</summary>
    internal const string ReminderPrefix = "<system-reminder>";

    /// <summary>The part Claude Code adds to the next user message after an interrupted answer.</summary>
    internal const string InterruptedMarker = "[Request interrupted by user";

    /// <summary>Claude Code's conversation id: the <c>x-claude-code-session-id</c> header, else <c>metadata.user_id.session_id</c>.</summary>
    public string? SessionId => Request.Header("x-claude-code-session-id") is { Length: > 0 } id ? id : MetadataSessionId();

    public string? Model => (Request.Body as JsonObject)?["model"]?.GetValue<string>();

    /// <summary>The user/assistant conversation only (no reminders, no system messages, no tool results, no slash-command wrappers).</summary>
    public IReadOnlyList<AnthropicMessage> Conversation =>
        [.. Messages.Where(m => m.Role is "assistant" || (m.Role is "user" && m.Text.Length > 0 && !m.Text.StartsWith('<')))];

    internal static AnthropicTurn Parse(RecordedRequest request)
    {
        var body = request.Body as JsonObject;

        // Problem: Claude Code also asks the model for titles, summaries and classifications. Solution:
        // those carry a JSON-schema output format (`output_format`, or `output_config.format` in newer
        // API shapes) or no tools at all; the main conversation always offers its tools.
        var format = body?["output_format"] as JsonObject ?? body?["output_config"]?["format"] as JsonObject;
        var schema = format?["type"]?.GetValue<string>() == "json_schema" ? format["schema"] as JsonObject ?? new JsonObject() : null;
        var tools = body?["tools"] as JsonArray;
        var isSide = schema is not null || tools is null || tools.Count == 0;

        var messages = new List<AnthropicMessage>();
        if (body?["messages"] is JsonArray array)
        {
            foreach (var item in array.OfType<JsonObject>())
            {
                var role = item["role"]?.GetValue<string>() ?? string.Empty;
                messages.Add(new AnthropicMessage(role, TextOf(item["content"])));
            }
        }

        // Claude Code 2.1.3xx puts its environment block as a `system` message after the first user
        // message: the user's text is the last *user* message.
        var lastUser = messages.LastOrDefault(m => m.Role == "user")?.Text ?? string.Empty;
        var (outputs, latest) = ToolResultsOf(request, body?["messages"] as JsonArray);
        return new AnthropicTurn(request, isSide, schema, lastUser, messages) { ToolOutputs = outputs, ToolOutput = latest };
    }

    private static (IReadOnlyList<FakeToolOutput> All, FakeToolOutput? Latest) ToolResultsOf(RecordedRequest request, JsonArray? messages)
    {
        if (messages is null)
        {
            return ([], null);
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var outputs = new List<FakeToolOutput>();
        FakeToolOutput? latest = null;
        foreach (var message in messages.OfType<JsonObject>())
        {
            var role = message["role"]?.GetValue<string>();
            if (role is not ("user" or "assistant"))
            {
                continue;
            }

            FakeToolOutput? inThisMessage = null;
            foreach (var block in (message["content"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var type = block["type"]?.GetValue<string>();
                if (type == "tool_use" && block["id"]?.GetValue<string>() is { } id)
                {
                    names[id] = block["name"]?.GetValue<string>() ?? "tool_use";
                }
                else if (type == "tool_result" && block["tool_use_id"]?.GetValue<string>() is { } useId)
                {
                    var isError = block["is_error"] is JsonValue e && e.TryGetValue<bool>(out var b) && b;
                    inThisMessage = new FakeToolOutput(request, useId, names.GetValueOrDefault(useId), FakeToolOutput.TextOf(block["content"]), isError, block.DeepClone());
                    outputs.Add(inThisMessage);
                }
            }

            if (role == "user")
            {
                latest = inThisMessage;
            }
        }

        return (outputs, latest);
    }

    /// <summary>
    /// The typed text of a message. Problem: Claude Code sends one user message made of several text
    /// parts: <c>&lt;system-reminder&gt;</c> context, the wrappers of a slash command run before
    /// (<c>&lt;local-command-caveat&gt;</c>, <c>&lt;command-name&gt;/clear…</c>,
    /// <c>&lt;local-command-stdout&gt;</c>), <c>[Request interrupted by user]</c> after a cancel, then
    /// what the user typed. Solution: leave out the parts that start with <c>&lt;</c> or that marker.
    /// </summary>
    private static string TextOf(JsonNode? content) => content switch
    {
        JsonValue value when value.TryGetValue<string>(out var s) => s.StartsWith(ReminderPrefix, StringComparison.Ordinal) ? string.Empty : s,
        JsonArray parts => string.Concat(parts.OfType<JsonObject>()
            .Where(p => p["type"]?.GetValue<string>() == "text")
            .Select(p => p["text"]?.GetValue<string>() ?? string.Empty)
            .Where(t => !t.StartsWith('<') && !t.StartsWith(InterruptedMarker, StringComparison.Ordinal))),
        _ => string.Empty,
    };

    private string? MetadataSessionId()
    {
        // metadata.user_id is itself a JSON string: {"device_id":…,"account_uuid":…,"session_id":…}.
        if ((Request.Body as JsonObject)?["metadata"]?["user_id"] is JsonValue v && v.TryGetValue<string>(out var userId) && userId.StartsWith('{'))
        {
            try
            {
                return (JsonNode.Parse(userId) as JsonObject)?["session_id"]?.GetValue<string>();
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return null;
    }
}

/// <summary>
/// A fake Anthropic Messages API for Claude Code (<c>ANTHROPIC_BASE_URL</c> = <see cref="FakeModelServer.BaseUrl"/>):
/// answers <c>POST /v1/messages</c> with SSE (<c>message_start</c>, <c>content_block_start</c>,
/// <c>content_block_delta</c>…, <c>content_block_stop</c>, <c>message_delta</c> with <c>stop_reason</c>
/// and usage, <c>message_stop</c>). Side requests (titles, summaries: a JSON-schema output format or no
/// tools) get a small answer that fits their schema; <c>/v1/messages/count_tokens</c> gets a count.
/// </summary>
public sealed class FakeAnthropicServer : FakeModelServer
{
    /// <summary>Usage reported for every answer; fixed so tests can assert it.</summary>
    public const int InputTokens = 10;
    public const int OutputTokens = 5;

    private readonly Lock _queueLock = new();
    private readonly Queue<FakeReply> _queued = new();
    private int _messageCounter;

    private FakeAnthropicServer()
    {
    }

    /// <summary>Answers user turns when no queued reply is waiting; default <c>PONG:&lt;last user text&gt;</c>.</summary>
    public Func<AnthropicTurn, FakeReply>? Responder { get; set; }

    /// <summary>The string put in every string field of a JSON-schema side answer (e.g. a title), or the whole text of a plain side answer.</summary>
    public Func<AnthropicTurn, string> SideResponder { get; set; } = _ => "Fake title";

    /// <summary>All <c>/v1/messages</c> requests of the main conversation (not side requests).</summary>
    public IReadOnlyList<AnthropicTurn> Turns =>
        [.. Requests.Where(IsMessagesCall).Select(AnthropicTurn.Parse).Where(t => !t.IsSideRequest)];

    /// <summary>Every tool result Claude Code sent back, each call once, in order (see <see cref="FakeToolOutput"/>).</summary>
    public IReadOnlyList<FakeToolOutput> ToolOutputs => FakeToolOutput.Distinct(Turns.Select(t => t.ToolOutputs));

    /// <summary>Titles, summaries and other side requests.</summary>
    public IReadOnlyList<AnthropicTurn> SideRequests =>
        [.. Requests.Where(IsMessagesCall).Select(AnthropicTurn.Parse).Where(t => t.IsSideRequest)];

    public static async Task<FakeAnthropicServer> StartAsync(Func<AnthropicTurn, FakeReply>? responder = null)
    {
        var server = new FakeAnthropicServer { Responder = responder };
        await server.StartListeningAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>The next user turn gets this reply (before <see cref="Responder"/> is asked). FIFO.</summary>
    public void EnqueueReply(FakeReply reply)
    {
        lock (_queueLock)
        {
            _queued.Enqueue(reply);
        }
    }

    /// <summary>Waits until the <paramref name="count"/>-th main-conversation request has arrived.</summary>
    public Task<AnthropicTurn> WaitForTurnAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => Turns.ElementAtOrDefault(count - 1), timeout, $"user turn #{count}", cancellationToken);

    /// <summary>Waits until Claude Code has sent back the result of the <paramref name="count"/>-th tool call (1-based).</summary>
    public Task<FakeToolOutput> WaitForToolOutputAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => ToolOutputs.ElementAtOrDefault(count - 1), timeout, $"tool output #{count}", cancellationToken);

    private static bool IsMessagesCall(RecordedRequest r) =>
        r.Method == "POST" && PathOnly(r.Path).EndsWith("/v1/messages", StringComparison.Ordinal);

    /// <summary>Claude Code calls <c>/v1/messages?beta=true</c>.</summary>
    private static string PathOnly(string path) => path.Split('?', 2)[0];

    protected override Task HandleAsync(HttpListenerContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        if (IsMessagesCall(request))
        {
            return AnswerMessagesAsync(context, request, cancellationToken);
        }

        if (request.Method == "POST" && PathOnly(request.Path).EndsWith("/v1/messages/count_tokens", StringComparison.Ordinal))
        {
            return WriteJsonAsync(context, 200, $$"""{"input_tokens":{{InputTokens}}}""", cancellationToken);
        }

        MarkUnknown(request);
        return WriteJsonAsync(context, 404, """{"type":"error","error":{"type":"not_found_error","message":"not found in fake"}}""", cancellationToken);
    }

    private Task AnswerMessagesAsync(HttpListenerContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        var turn = AnthropicTurn.Parse(request);
        FakeReply reply;
        if (turn.IsSideRequest)
        {
            var side = SideResponder(turn);
            reply = FakeReply.Say(turn.OutputSchema is { } schema ? SampleOf(schema, side)?.ToJsonString() ?? "null" : side);
        }
        else
        {
            FakeReply? queued = null;
            lock (_queueLock)
            {
                _queued.TryDequeue(out queued);
            }

            reply = queued ?? Responder?.Invoke(turn) ?? turn.ToolOutput?.DefaultAnswer() ?? FakeReply.Say("PONG:" + turn.LastUserText);
        }

        var n = Interlocked.Increment(ref _messageCounter);
        var messageId = $"msg_fake_{n}";
        var model = turn.Model ?? "fake-model";

        // A reply that only calls tools has no text block; its tool_use blocks start at index 0.
        var hasText = reply.Text.Length > 0 || !reply.HasToolCalls;
        var prologue = new List<string>
        {
            Sse("message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = messageId,
                    ["type"] = "message",
                    ["role"] = "assistant",
                    ["model"] = model,
                    ["content"] = new JsonArray(),
                    ["stop_reason"] = null,
                    ["stop_sequence"] = null,
                    ["usage"] = new JsonObject
                    {
                        ["input_tokens"] = InputTokens,
                        ["cache_creation_input_tokens"] = 0,
                        ["cache_read_input_tokens"] = 0,
                        ["output_tokens"] = 1,
                    },
                },
            }),
        };
        if (hasText)
        {
            prologue.Add(Sse("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start",
                ["index"] = 0,
                ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = string.Empty },
            }));
        }

        string Delta(string text, int index) => text.Length == 0 && !hasText ? string.Empty : Sse("content_block_delta", new JsonObject
        {
            ["type"] = "content_block_delta",
            ["index"] = 0,
            ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text },
        });

        var epilogue = new List<string>();
        var blockIndex = 0;
        if (hasText)
        {
            epilogue.Add(Sse("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 }));
            blockIndex = 1;
        }

        var calls = new List<FakeToolCall>();
        for (var k = 0; k < reply.ToolCalls.Count; k++, blockIndex++)
        {
            var call = reply.ToolCalls[k] with { Id = reply.ToolCalls[k].Id ?? $"toolu_fake_{n}_{k}" };
            calls.Add(call);
            epilogue.Add(Sse("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start",
                ["index"] = blockIndex,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = new JsonObject() },
            }));
            epilogue.Add(Sse("content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta",
                ["index"] = blockIndex,
                ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = call.ArgumentsOrEmpty.ToJsonString() },
            }));
            epilogue.Add(Sse("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = blockIndex }));
        }

        var delta = new JsonObject { ["stop_reason"] = calls.Count > 0 ? "tool_use" : "end_turn", ["stop_sequence"] = null };
        if (reply.Safeguard is { } verdict && calls.Count > 0)
        {
            var perCall = new JsonObject();
            foreach (var call in calls)
            {
                perCall[call.Id!] = verdict.DeepClone();
            }

            delta["safeguard_results"] = new JsonArray(new JsonObject
            {
                ["type"] = "dangerous_tool_use",
                ["status"] = new JsonObject { ["type"] = "available", ["tool_uses"] = perCall },
            });
        }

        epilogue.Add(Sse("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = delta,
            ["usage"] = new JsonObject { ["output_tokens"] = OutputTokens },
        }));
        epilogue.Add(Sse("message_stop", new JsonObject { ["type"] = "message_stop" }));

        return StreamReplyAsync(context, request, reply, turn.IsSideRequest, "text/event-stream", prologue, Delta, epilogue, cancellationToken, calls);
    }

    /// <summary>
    /// A value that satisfies a (simple) JSON schema: objects get their properties (required or not),
    /// strings <paramref name="text"/>, booleans false, numbers 0, arrays empty, enums their first value.
    /// </summary>
    internal static JsonNode? SampleOf(JsonObject schema, string text)
    {
        if (schema["enum"] is JsonArray { Count: > 0 } values)
        {
            return values[0]?.DeepClone();
        }

        var type = schema["type"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var t) => t,
            JsonArray a => a.OfType<JsonValue>().Select(x => x.GetValue<string>()).FirstOrDefault(t => t != "null"),
            _ => schema["properties"] is not null ? "object" : "string",
        };
        switch (type)
        {
            case "object":
                var result = new JsonObject();
                if (schema["properties"] is JsonObject properties)
                {
                    foreach (var (name, property) in properties)
                    {
                        result[name] = property is JsonObject p ? SampleOf(p, text) : text;
                    }
                }

                return result;
            case "array":
                return new JsonArray();
            case "boolean":
                return false;
            case "integer" or "number":
                return 0;
            case "null":
                return null;
            default:
                return text;
        }
    }

    private static string Sse(string eventName, JsonObject data) => $"event: {eventName}\ndata: {data.ToJsonString()}\n\n";
}

/// <summary>
/// Claude Code 2.1.332's tools as fake <c>tool_use</c> blocks (input schemas as its request's <c>tools</c>
/// array has them). Offered directly: Bash, Edit, Write, Read, … ; <c>TodoWrite</c> and
/// <c>TaskCreate</c>/<c>TaskUpdate</c> are not offered with its default model (claude-opus-5-5): they are
/// "deferred" tools, loaded with <see cref="ToolSearch"/> first, and only exist with
/// <c>CLAUDE_CODE_ENABLE_TODO_TOOLS=1</c> (Task* tools) plus <c>CLAUDE_CODE_ENABLE_TASKS=0</c> (TodoWrite instead),
/// or with an older model such as <c>--model claude-sonnet-4-5</c> (Task* tools).
/// </summary>
public static class ClaudeTools
{
    /// <summary>Auto mode's server-side check: the call may run.</summary>
    public static JsonObject NotFlagged => new() { ["type"] = "evaluated", ["outcome"] = "not_flagged" };

    /// <summary>Auto mode's server-side check: the call is blocked (the model gets "Permission for this action was denied by the Claude Code auto mode classifier. Reason: …").</summary>
    public static JsonObject Flagged(string explanation) => new() { ["type"] = "evaluated", ["outcome"] = "flagged", ["explanation"] = explanation };

    /// <summary><c>Bash</c>: <c>{command, description?}</c>.</summary>
    public static FakeToolCall Bash(string command, string? description = null)
    {
        var input = new JsonObject { ["command"] = command };
        if (description is not null)
        {
            input["description"] = description;
        }

        return FakeToolCall.Function("Bash", input);
    }

    /// <summary><c>Read</c>: <c>{file_path}</c> (absolute). Claude Code refuses an Edit of a file it has not read in this conversation.</summary>
    public static FakeToolCall Read(string filePath) => FakeToolCall.Function("Read", new JsonObject { ["file_path"] = filePath });

    /// <summary><c>Edit</c>: <c>{file_path, old_string, new_string, replace_all?}</c> (absolute path; Read it first).</summary>
    public static FakeToolCall Edit(string filePath, string oldString, string newString) =>
        FakeToolCall.Function("Edit", new JsonObject { ["file_path"] = filePath, ["old_string"] = oldString, ["new_string"] = newString });

    /// <summary><c>Write</c>: <c>{file_path, content}</c> (absolute path).</summary>
    public static FakeToolCall Write(string filePath, string content) =>
        FakeToolCall.Function("Write", new JsonObject { ["file_path"] = filePath, ["content"] = content });

    /// <summary><c>ToolSearch</c> <c>{query: "select:A,B"}</c>: loads deferred tools (e.g. TodoWrite) so they can be called.</summary>
    public static FakeToolCall ToolSearch(string query) => FakeToolCall.Function("ToolSearch", new JsonObject { ["query"] = query });

    /// <summary><c>TodoWrite</c>: <c>{todos: [{content, status: pending|in_progress|completed, activeForm}]}</c> (deferred; see the class remarks).</summary>
    public static FakeToolCall TodoWrite(params (string Content, string Status, string ActiveForm)[] todos) =>
        FakeToolCall.Function("TodoWrite", new JsonObject
        {
            ["todos"] = new JsonArray([.. todos.Select(t => (JsonNode)new JsonObject { ["content"] = t.Content, ["status"] = t.Status, ["activeForm"] = t.ActiveForm })]),
        });

    /// <summary><c>TaskCreate</c>: <c>{subject, description, activeForm?}</c> (deferred; see the class remarks).</summary>
    public static FakeToolCall TaskCreate(string subject, string description, string? activeForm = null)
    {
        var input = new JsonObject { ["subject"] = subject, ["description"] = description };
        if (activeForm is not null)
        {
            input["activeForm"] = activeForm;
        }

        return FakeToolCall.Function("TaskCreate", input);
    }
}
