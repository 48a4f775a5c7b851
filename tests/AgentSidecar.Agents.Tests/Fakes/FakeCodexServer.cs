using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.Tests.Fakes;

/// <summary>One message of a Responses API <c>input</c> (developer, user or assistant).</summary>
public sealed record CodexMessage(string Role, string Text);

/// <summary>A <c>POST /v1/responses</c> request seen through Codex's eyes.</summary>
public sealed record CodexTurn(
    RecordedRequest Request,
    bool IsTitleRequest,
    string LastUserText,
    IReadOnlyList<CodexMessage> Messages,
    JsonObject? TurnMetadata)
{
    /// <summary>Codex's thread id (<c>x-codex-turn-metadata.session_id</c>, also the <c>session-id</c> header).</summary>
    public string? SessionId => TurnMetadata?["session_id"]?.GetValue<string>() ?? Request.Header("session-id");

    /// <summary><c>new</c>, <c>cleared</c>, <c>cold_resume</c>… (how the thread's history started).</summary>
    public string? HistoryInitialization => TurnMetadata?["history_initialization"]?.GetValue<string>();

    /// <summary>The user/assistant conversation only (no developer prompts, no environment context).</summary>
    public IReadOnlyList<CodexMessage> Conversation =>
        [.. Messages.Where(m => m.Role is "assistant" || (m.Role is "user" && !m.Text.StartsWith('<')))];

    internal static CodexTurn Parse(RecordedRequest request)
    {
        var body = request.Body as JsonObject;
        var isTitle = body?["text"]?["format"]?["type"]?.GetValue<string>() == "json_schema";
        var messages = new List<CodexMessage>();
        if (body?["input"] is JsonArray input)
        {
            foreach (var item in input.OfType<JsonObject>())
            {
                if (item["type"]?.GetValue<string>() != "message")
                {
                    continue;
                }

                var role = item["role"]?.GetValue<string>() ?? string.Empty;
                var text = item["content"] switch
                {
                    JsonArray parts => string.Concat(parts.OfType<JsonObject>()
                        .Where(p => p["type"]?.GetValue<string>() is "input_text" or "output_text")
                        .Select(p => p["text"]?.GetValue<string>() ?? string.Empty)),
                    JsonValue value => value.GetValue<string>(),
                    _ => string.Empty,
                };
                messages.Add(new CodexMessage(role, text));
            }
        }

        var lastUser = messages.LastOrDefault(m => m.Role == "user")?.Text ?? string.Empty;
        JsonObject? metadata = null;
        if (request.Header("x-codex-turn-metadata") is { Length: > 0 } header)
        {
            try
            {
                metadata = JsonNode.Parse(header) as JsonObject;
            }
            catch (JsonException)
            {
                metadata = null;
            }
        }

        return new CodexTurn(request, isTitle, lastUser, messages, metadata);
    }
}

/// <summary>
/// A fake OpenAI Responses API for the Codex CLI (<c>wire_api = "responses"</c>): answers
/// <c>POST /v1/responses</c> with SSE (<c>response.created</c>, <c>response.output_text.delta</c>…,
/// <c>response.output_item.done</c>, <c>response.completed</c> with usage). Title requests
/// (<c>text.format.type = json_schema</c>) get <c>{"title": …}</c>. Point Codex's provider
/// <c>base_url</c> at <see cref="ApiBaseUrl"/>.
/// </summary>
public sealed class FakeCodexServer : FakeModelServer
{
    /// <summary>Usage reported in every <c>response.completed</c>; token counts are fixed so tests can assert them.</summary>
    public const int InputTokens = 10;
    public const int OutputTokens = 5;

    private readonly Lock _queueLock = new();
    private readonly Queue<FakeReply> _queued = new();
    private int _responseCounter;

    private FakeCodexServer()
    {
    }

    /// <summary>Base URL for Codex's provider config: <c>http://127.0.0.1:PORT/v1</c>.</summary>
    public Uri ApiBaseUrl => new(BaseUrl, "v1");

    /// <summary>Answers user turns when no queued reply is waiting; default <c>PONG:&lt;last user text&gt;</c>.</summary>
    public Func<CodexTurn, FakeReply>? Responder { get; set; }

    /// <summary>The title Codex gets for a new thread.</summary>
    public Func<CodexTurn, string> TitleResponder { get; set; } = _ => "Fake title";

    /// <summary>All <c>/v1/responses</c> requests that were user turns (not title requests).</summary>
    public IReadOnlyList<CodexTurn> Turns =>
        [.. Requests.Where(IsResponsesCall).Select(CodexTurn.Parse).Where(t => !t.IsTitleRequest)];

    /// <summary>The title requests.</summary>
    public IReadOnlyList<CodexTurn> TitleRequests =>
        [.. Requests.Where(IsResponsesCall).Select(CodexTurn.Parse).Where(t => t.IsTitleRequest)];

    public static async Task<FakeCodexServer> StartAsync(Func<CodexTurn, FakeReply>? responder = null)
    {
        var server = new FakeCodexServer { Responder = responder };
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

    /// <summary>Waits until the <paramref name="count"/>-th user turn request has arrived.</summary>
    public async Task<CodexTurn> WaitForTurnAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var found = await WaitUntilAsync(() => Turns.ElementAtOrDefault(count - 1), timeout, $"user turn #{count}", cancellationToken).ConfigureAwait(false);
        return found;
    }

    private static bool IsResponsesCall(RecordedRequest r) => r.Method == "POST" && r.Path.EndsWith("/responses", StringComparison.Ordinal);

    protected override Task HandleAsync(HttpListenerContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        if (IsResponsesCall(request))
        {
            return AnswerResponsesAsync(context, request, cancellationToken);
        }

        MarkUnknown(request);
        if (request.Method == "GET" && request.Path.EndsWith("/models", StringComparison.Ordinal))
        {
            // Codex's remote model list ({"models": [...]}) and the OpenAI list shape, both empty.
            return WriteJsonAsync(context, 200, """{"object":"list","data":[],"models":[]}""", cancellationToken);
        }

        return WriteJsonAsync(context, 404, """{"error":{"message":"not found in fake","type":"invalid_request_error"}}""", cancellationToken);
    }

    private Task AnswerResponsesAsync(HttpListenerContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        var turn = CodexTurn.Parse(request);
        FakeReply reply;
        if (turn.IsTitleRequest)
        {
            reply = FakeReply.Say(new JsonObject { ["title"] = TitleResponder(turn) }.ToJsonString());
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

        var n = Interlocked.Increment(ref _responseCounter);
        var responseId = $"resp_fake_{n}";
        var itemId = $"msg_fake_{n}";
        var model = (request.Body as JsonObject)?["model"]?.GetValue<string>() ?? "fake-model";

        var prologue = new[]
        {
            Sse("response.created", new JsonObject
            {
                ["type"] = "response.created",
                ["response"] = new JsonObject { ["id"] = responseId, ["object"] = "response", ["model"] = model, ["status"] = "in_progress", ["output"] = new JsonArray() },
            }),
            Sse("response.output_item.added", new JsonObject
            {
                ["type"] = "response.output_item.added",
                ["output_index"] = 0,
                ["item"] = new JsonObject { ["type"] = "message", ["id"] = itemId, ["role"] = "assistant", ["status"] = "in_progress", ["content"] = new JsonArray() },
            }),
        };

        string Delta(string text, int index) => Sse("response.output_text.delta", new JsonObject
        {
            ["type"] = "response.output_text.delta",
            ["item_id"] = itemId,
            ["output_index"] = 0,
            ["content_index"] = 0,
            ["delta"] = text,
        });

        var message = new JsonObject
        {
            ["type"] = "message",
            ["id"] = itemId,
            ["role"] = "assistant",
            ["status"] = "completed",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = reply.Text, ["annotations"] = new JsonArray() }),
        };
        var epilogue = new[]
        {
            Sse("response.output_item.done", new JsonObject { ["type"] = "response.output_item.done", ["output_index"] = 0, ["item"] = message }),
            Sse("response.completed", new JsonObject
            {
                ["type"] = "response.completed",
                ["response"] = new JsonObject
                {
                    ["id"] = responseId,
                    ["object"] = "response",
                    ["model"] = model,
                    ["status"] = "completed",
                    ["output"] = new JsonArray(message.DeepClone()),
                    ["usage"] = new JsonObject
                    {
                        ["input_tokens"] = InputTokens,
                        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                        ["output_tokens"] = OutputTokens,
                        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                        ["total_tokens"] = InputTokens + OutputTokens,
                    },
                },
            }),
        };

        return StreamReplyAsync(context, request, reply, turn.IsTitleRequest, "text/event-stream", prologue, Delta, epilogue, cancellationToken);
    }

    private static string Sse(string eventName, JsonObject data) => $"event: {eventName}\ndata: {data.ToJsonString()}\n\n";
}
