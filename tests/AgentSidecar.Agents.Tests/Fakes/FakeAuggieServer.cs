using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.Tests.Fakes;

/// <summary>One earlier exchange as Auggie sends it back in <c>chat_history</c>.</summary>
public sealed record AuggieExchange(string User, string Assistant);

/// <summary>A <c>POST chat-stream</c> request seen through Auggie's eyes.</summary>
public sealed record AuggieChat(
    RecordedRequest Request,
    bool IsTitleRequest,
    string LastUserText,
    IReadOnlyList<AuggieExchange> History)
{
    /// <summary>Node type of plain text, both in request nodes and in streamed response nodes.</summary>
    internal const int TextNodeType = 0;

    /// <summary>Response node type that closes an answer and carries its full text.</summary>
    internal const int FinalNodeType = 2;

    /// <summary>Response node type of a tool call: <c>{tool_use: {tool_use_id, tool_name, input_json}}</c> (input_json is a JSON string).</summary>
    internal const int ToolUseNodeType = 5;

    /// <summary>Request node type of a tool's result: <c>{tool_result_node: {tool_use_id, content, is_error, …}}</c>.</summary>
    internal const int ToolResultNodeType = 1;

    /// <summary><c>stop_reason</c> values of the last streamed line: END_TURN and TOOL_USE_REQUESTED.</summary>
    internal const int EndTurn = 1;
    internal const int ToolUseRequested = 3;

    /// <summary>Every tool result in this request (its nodes and the history's request nodes), in order.</summary>
    public IReadOnlyList<FakeToolOutput> ToolOutputs { get; init; } = [];

    /// <summary>The tool result this request brings back (a <c>tool_result_node</c> in its own nodes), or null.</summary>
    public FakeToolOutput? ToolOutput { get; init; }

    public string? ConversationId => (Request.Body as JsonObject)?["conversation_id"]?.GetValue<string>();

    internal static AuggieChat Parse(RecordedRequest request)
    {
        var body = request.Body as JsonObject;

        // Problem: the title request is a chat-stream too. Solution: it is the one marked silent, and
        // its prompt is in `message` (user turns carry the text in nodes and an empty message).
        var silent = body?["silent"] is JsonValue s && s.TryGetValue<bool>(out var b) && b;
        var message = body?["message"]?.GetValue<string>() ?? string.Empty;
        var isTitle = silent || message.StartsWith("Please provide a clear and concise title", StringComparison.Ordinal);

        var nodeText = TextOfNodes(body?["nodes"] as JsonArray, "text_node");
        var lastUser = nodeText.Length > 0 ? nodeText : message;

        var history = new List<AuggieExchange>();
        if (body?["chat_history"] is JsonArray chatHistory)
        {
            foreach (var exchange in chatHistory.OfType<JsonObject>())
            {
                var user = exchange["request_message"]?.GetValue<string>() is { Length: > 0 } m
                    ? m
                    : TextOfNodes(exchange["request_nodes"] as JsonArray, "text_node");
                var assistant = exchange["response_text"]?.GetValue<string>() is { Length: > 0 } r
                    ? r
                    : TextOfResponseNodes(exchange["response_nodes"] as JsonArray);
                history.Add(new AuggieExchange(user, assistant));
            }
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var outputs = new List<FakeToolOutput>();
        void Collect(JsonArray? nodes, List<FakeToolOutput> into)
        {
            foreach (var node in (nodes ?? []).OfType<JsonObject>())
            {
                if (node["tool_use"] is JsonObject use && use["tool_use_id"]?.GetValue<string>() is { } useId)
                {
                    names[useId] = use["tool_name"]?.GetValue<string>() ?? "tool_use";
                }

                if (node["tool_result_node"] is JsonObject result && result["tool_use_id"]?.GetValue<string>() is { } id)
                {
                    var isError = result["is_error"] is JsonValue e && e.TryGetValue<bool>(out var err) && err;
                    into.Add(new FakeToolOutput(request, id, names.GetValueOrDefault(id), FakeToolOutput.TextOf(result["content"]), isError, result.DeepClone()));
                }
            }
        }

        foreach (var exchange in (body?["chat_history"] as JsonArray ?? []).OfType<JsonObject>())
        {
            Collect(exchange["request_nodes"] as JsonArray, outputs);
            Collect(exchange["response_nodes"] as JsonArray, outputs);
        }

        var current = new List<FakeToolOutput>();
        Collect(body?["nodes"] as JsonArray, current);
        outputs.AddRange(current);
        return new AuggieChat(request, isTitle, lastUser, history) { ToolOutputs = outputs, ToolOutput = current.LastOrDefault() };
    }

    private static string TextOfNodes(JsonArray? nodes, string property) =>
        nodes is null
            ? string.Empty
            : string.Concat(nodes.OfType<JsonObject>()
                .Where(n => n["type"] is JsonValue t && t.TryGetValue<int>(out var type) && type == TextNodeType)
                .Select(n => n[property]?["content"]?.GetValue<string>() ?? string.Empty));

    private static string TextOfResponseNodes(JsonArray? nodes)
    {
        if (nodes is null)
        {
            return string.Empty;
        }

        var objects = nodes.OfType<JsonObject>().ToList();
        var final = objects.LastOrDefault(n => n["type"] is JsonValue t && t.TryGetValue<int>(out var type) && type == FinalNodeType);
        if (final?["content"]?.GetValue<string>() is { Length: > 0 } full)
        {
            return full;
        }

        return string.Concat(objects
            .Where(n => n["type"] is JsonValue t && t.TryGetValue<int>(out var type) && type == TextNodeType)
            .Select(n => n["content"]?.GetValue<string>() ?? string.Empty));
    }
}

/// <summary>
/// A fake Augment backend (the "tenant URL") for the Auggie CLI. Every call is
/// <c>POST &lt;tenant&gt;/&lt;endpoint&gt;</c> with JSON. <c>get-models</c> and
/// <c>agents/list-remote-tools</c> get fixed answers, <c>chat-stream</c> streams newline-delimited
/// JSON (chunked), everything else gets <c>{}</c>.
/// </summary>
public sealed class FakeAuggieServer : FakeModelServer
{
    public const string ModelName = "fake-model";
    public const string UserEmail = "fake@example.invalid";

    /// <summary>Endpoints the current Auggie calls and this fake answers on purpose (others get <c>{}</c> and are logged as unknown).</summary>
    private static readonly HashSet<string> KnownEmptyEndpoints = new(StringComparer.Ordinal)
    {
        "settings/get-mcp-user-configs",
        "settings/get-mcp-tenant-configs",
        "report-error",
        "record-session-events",
        "record-request-events",
        "client-metrics",
        "report-feature-vector",
    };

    private readonly Lock _queueLock = new();
    private readonly Queue<FakeReply> _queued = new();
    private int _chatCounter;

    private FakeAuggieServer()
    {
    }

    /// <summary>Answers user turns when no queued reply is waiting; default <c>PONG:&lt;last user text&gt;</c>.</summary>
    public Func<AuggieChat, FakeReply>? Responder { get; set; }

    /// <summary>The session title Auggie gets (through a silent chat-stream).</summary>
    public Func<AuggieChat, string> TitleResponder { get; set; } = _ => "Fake title";

    /// <summary>All chat-stream requests that were user turns (not title requests).</summary>
    public IReadOnlyList<AuggieChat> Chats =>
        [.. Requests.Where(IsChatStream).Select(AuggieChat.Parse).Where(c => !c.IsTitleRequest)];

    /// <summary>Every tool result Auggie sent back, each call once, in order (see <see cref="FakeToolOutput"/>).</summary>
    public IReadOnlyList<FakeToolOutput> ToolOutputs => FakeToolOutput.Distinct(Chats.Select(c => c.ToolOutputs));

    /// <summary>Waits until Auggie has sent back the result of the <paramref name="count"/>-th tool call (1-based).</summary>
    public Task<FakeToolOutput> WaitForToolOutputAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => ToolOutputs.ElementAtOrDefault(count - 1), timeout, $"tool output #{count}", cancellationToken);

    public IReadOnlyList<AuggieChat> TitleRequests =>
        [.. Requests.Where(IsChatStream).Select(AuggieChat.Parse).Where(c => c.IsTitleRequest)];

    /// <summary>The value for <c>AUGMENT_SESSION_AUTH.tenantURL</c> (ends with a slash).</summary>
    public Uri TenantUrl => BaseUrl;

    public static async Task<FakeAuggieServer> StartAsync(Func<AuggieChat, FakeReply>? responder = null)
    {
        var server = new FakeAuggieServer { Responder = responder };
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

    /// <summary>Waits until the <paramref name="count"/>-th user chat request has arrived.</summary>
    public Task<AuggieChat> WaitForChatAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => Chats.ElementAtOrDefault(count - 1), timeout, $"user chat #{count}", cancellationToken);

    private static bool IsChatStream(RecordedRequest r) => r.Path.TrimStart('/') == "chat-stream";

    protected override Task HandleAsync(HttpListenerContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        var endpoint = request.Path.TrimStart('/');
        switch (endpoint)
        {
            case "get-models":
                return WriteJsonAsync(context, 200, GetModelsJson(), cancellationToken);
            case "agents/list-remote-tools":
                return WriteJsonAsync(context, 200, """{"tools":[]}""", cancellationToken);
            case "chat-stream":
                return AnswerChatAsync(context, request, cancellationToken);
            default:
                if (!KnownEmptyEndpoints.Contains(endpoint))
                {
                    MarkUnknown(request);
                }

                return WriteJsonAsync(context, 200, "{}", cancellationToken);
        }
    }

    private static string GetModelsJson() => new JsonObject
    {
        ["default_model"] = ModelName,
        ["models"] = new JsonArray(new JsonObject
        {
            ["name"] = ModelName,
            ["suggested_prefix_char_count"] = 1000,
            ["suggested_suffix_char_count"] = 1000,
        }),
        ["feature_flags"] = new JsonObject(),
        ["user_tier"] = "ENTERPRISE_TIER",
        ["user"] = new JsonObject { ["id"] = "u1", ["email"] = UserEmail },
    }.ToJsonString();

    private Task AnswerChatAsync(HttpListenerContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        var chat = AuggieChat.Parse(request);
        FakeReply reply;
        if (chat.IsTitleRequest)
        {
            reply = FakeReply.Say(TitleResponder(chat));
        }
        else
        {
            FakeReply? queued = null;
            lock (_queueLock)
            {
                _queued.TryDequeue(out queued);
            }

            reply = queued ?? Responder?.Invoke(chat) ?? chat.ToolOutput?.DefaultAnswer() ?? FakeReply.Say("PONG:" + chat.LastUserText);
        }

        static string Line(JsonObject o) => o.ToJsonString() + "\n";

        string Piece(string text, int index) => text.Length == 0 && reply.HasToolCalls ? string.Empty : Line(new JsonObject
        {
            ["text"] = text,
            ["nodes"] = new JsonArray(new JsonObject { ["id"] = 1, ["type"] = AuggieChat.TextNodeType, ["content"] = text }),
        });

        var n = Interlocked.Increment(ref _chatCounter);
        var epilogue = new List<string>();
        var calls = new List<FakeToolCall>();
        for (var k = 0; k < reply.ToolCalls.Count; k++)
        {
            var call = reply.ToolCalls[k] with { Id = reply.ToolCalls[k].Id ?? $"toolu_fake_{n}_{k}" };
            calls.Add(call);
            epilogue.Add(Line(new JsonObject
            {
                ["text"] = string.Empty,
                ["nodes"] = new JsonArray(new JsonObject
                {
                    ["id"] = 3 + k,
                    ["type"] = AuggieChat.ToolUseNodeType,
                    ["content"] = string.Empty,
                    ["tool_use"] = new JsonObject { ["tool_use_id"] = call.Id, ["tool_name"] = call.Name, ["input_json"] = call.WireArguments },
                }),
            }));
        }

        epilogue.Add(Line(new JsonObject
        {
            ["text"] = string.Empty,
            ["nodes"] = new JsonArray(new JsonObject { ["id"] = 2, ["type"] = AuggieChat.FinalNodeType, ["content"] = reply.Text }),
            ["stop_reason"] = calls.Count > 0 ? AuggieChat.ToolUseRequested : AuggieChat.EndTurn,
        }));

        return StreamReplyAsync(context, request, reply, chat.IsTitleRequest, "application/x-ndjson", [], Piece, epilogue, cancellationToken, calls);
    }
}

/// <summary>
/// Auggie 0.36's tools (its request's <c>tool_definitions</c>, each with <c>input_schema_json</c> and a
/// <c>tool_safety</c>) as fake tool calls: <c>launch-process</c>, <c>save-file</c>, <c>str-replace-editor</c>,
/// <c>apply_patch</c> (a function with <c>{input}</c>), <c>view</c>, <c>remove-files</c>, <c>add_tasks</c>,
/// <c>update_tasks</c>, <c>view_tasklist</c>, … With the seeded home it runs them without asking.
/// </summary>
public static class AuggieTools
{
    /// <summary><c>launch-process</c>: <c>{command, wait, max_wait_seconds, cwd}</c>; the result is "Here are the results from executing the command.\n&lt;return-code&gt;N&lt;/return-code&gt;\n&lt;output&gt;…&lt;/output&gt;".</summary>
    public static FakeToolCall LaunchProcess(string command, string cwd = ".", bool wait = true, int maxWaitSeconds = 30) =>
        FakeToolCall.Function("launch-process", new JsonObject { ["command"] = command, ["wait"] = wait, ["max_wait_seconds"] = maxWaitSeconds, ["cwd"] = cwd });

    /// <summary><c>save-file</c>: <c>{path, file_content}</c> (a new file; path relative to the workspace).</summary>
    public static FakeToolCall SaveFile(string path, string content) =>
        FakeToolCall.Function("save-file", new JsonObject { ["path"] = path, ["file_content"] = content });

    /// <summary><c>add_tasks</c>: <c>{tasks: [{name, description, state?: NOT_STARTED|IN_PROGRESS|CANCELLED|COMPLETE}]}</c>.</summary>
    public static FakeToolCall AddTasks(params (string Name, string Description, string? State)[] tasks) =>
        FakeToolCall.Function("add_tasks", new JsonObject
        {
            ["tasks"] = new JsonArray([.. tasks.Select(t =>
            {
                var o = new JsonObject { ["name"] = t.Name, ["description"] = t.Description };
                if (t.State is not null)
                {
                    o["state"] = t.State;
                }

                return (JsonNode)o;
            })]),
        });
}
