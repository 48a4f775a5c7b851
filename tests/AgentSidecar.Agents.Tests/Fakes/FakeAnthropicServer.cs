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
        return new AnthropicTurn(request, isSide, schema, lastUser, messages);
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

            reply = queued ?? Responder?.Invoke(turn) ?? FakeReply.Say("PONG:" + turn.LastUserText);
        }

        var n = Interlocked.Increment(ref _messageCounter);
        var messageId = $"msg_fake_{n}";
        var model = turn.Model ?? "fake-model";

        var prologue = new[]
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
            Sse("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start",
                ["index"] = 0,
                ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = string.Empty },
            }),
        };

        string Delta(string text, int index) => Sse("content_block_delta", new JsonObject
        {
            ["type"] = "content_block_delta",
            ["index"] = 0,
            ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text },
        });

        var epilogue = new[]
        {
            Sse("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 }),
            Sse("message_delta", new JsonObject
            {
                ["type"] = "message_delta",
                ["delta"] = new JsonObject { ["stop_reason"] = "end_turn", ["stop_sequence"] = null },
                ["usage"] = new JsonObject { ["output_tokens"] = OutputTokens },
            }),
            Sse("message_stop", new JsonObject { ["type"] = "message_stop" }),
        };

        return StreamReplyAsync(context, request, reply, turn.IsSideRequest, "text/event-stream", prologue, Delta, epilogue, cancellationToken);
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
