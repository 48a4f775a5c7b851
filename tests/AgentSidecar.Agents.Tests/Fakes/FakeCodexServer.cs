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
    /// <summary>Every tool output in this request's <c>input</c> (the whole history), in order.</summary>
    public IReadOnlyList<FakeToolOutput> ToolOutputs { get; init; } = [];

    /// <summary>
    /// The tool output this request brings back (the model's previous reply called a tool), or null for a
    /// request that starts from a user message. Only developer messages may follow it (Codex adds e.g.
    /// "Approved command prefix saved:" after an "always allow" approval).
    /// </summary>
    public FakeToolOutput? ToolOutput { get; init; }

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

        var (outputs, latest) = ToolOutputsOf(request, body?["input"] as JsonArray);
        return new CodexTurn(request, isTitle, lastUser, messages, metadata) { ToolOutputs = outputs, ToolOutput = latest };
    }

    private static (IReadOnlyList<FakeToolOutput> All, FakeToolOutput? Latest) ToolOutputsOf(RecordedRequest request, JsonArray? input)
    {
        if (input is null)
        {
            return ([], null);
        }

        var items = input.OfType<JsonObject>().ToList();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var outputs = new List<FakeToolOutput>();
        FakeToolOutput? latest = null;
        foreach (var item in items)
        {
            var type = item["type"]?.GetValue<string>();
            var callId = item["call_id"]?.GetValue<string>();
            if (callId is null)
            {
                latest = type == "message" && item["role"]?.GetValue<string>() == "developer" ? latest : null;
                continue;
            }

            if (type is "function_call" or "custom_tool_call" or "local_shell_call")
            {
                names[callId] = item["name"]?.GetValue<string>() ?? type;
                latest = null;
            }
            else if (type is "function_call_output" or "custom_tool_call_output")
            {
                var output = new FakeToolOutput(request, callId, names.GetValueOrDefault(callId), FakeToolOutput.TextOf(item["output"]), IsError: false, item.DeepClone());
                outputs.Add(output);
                latest = output;
            }
        }

        return (outputs, latest);
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

    /// <summary>Every tool output Codex sent back, each call once, in order (see <see cref="FakeToolOutput"/>).</summary>
    public IReadOnlyList<FakeToolOutput> ToolOutputs => FakeToolOutput.Distinct(Turns.Select(t => t.ToolOutputs));

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

    /// <summary>Waits until Codex has sent back the output of the <paramref name="count"/>-th tool call (1-based).</summary>
    public Task<FakeToolOutput> WaitForToolOutputAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => ToolOutputs.ElementAtOrDefault(count - 1), timeout, $"tool output #{count}", cancellationToken);

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

            reply = queued ?? Responder?.Invoke(turn) ?? turn.ToolOutput?.DefaultAnswer() ?? FakeReply.Say("PONG:" + turn.LastUserText);
        }

        var n = Interlocked.Increment(ref _responseCounter);
        var responseId = $"resp_fake_{n}";
        var itemId = $"msg_fake_{n}";
        var model = (request.Body as JsonObject)?["model"]?.GetValue<string>() ?? "fake-model";

        // A reply that only calls tools has no message item; its calls start at output index 0.
        var hasMessage = reply.Text.Length > 0 || !reply.HasToolCalls;
        var prologue = new List<string>
        {
            Sse("response.created", new JsonObject
            {
                ["type"] = "response.created",
                ["response"] = new JsonObject { ["id"] = responseId, ["object"] = "response", ["model"] = model, ["status"] = "in_progress", ["output"] = new JsonArray() },
            }),
        };
        if (hasMessage)
        {
            prologue.Add(Sse("response.output_item.added", new JsonObject
            {
                ["type"] = "response.output_item.added",
                ["output_index"] = 0,
                ["item"] = new JsonObject { ["type"] = "message", ["id"] = itemId, ["role"] = "assistant", ["status"] = "in_progress", ["content"] = new JsonArray() },
            }));
        }

        string Delta(string text, int index) => text.Length == 0 && !hasMessage ? string.Empty : Sse("response.output_text.delta", new JsonObject
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
        var output = new JsonArray();
        var epilogue = new List<string>();
        if (hasMessage)
        {
            epilogue.Add(Sse("response.output_item.done", new JsonObject { ["type"] = "response.output_item.done", ["output_index"] = 0, ["item"] = message }));
            output.Add(message.DeepClone());
        }

        var calls = new List<FakeToolCall>();
        for (var k = 0; k < reply.ToolCalls.Count; k++)
        {
            var call = reply.ToolCalls[k] with { Id = reply.ToolCalls[k].Id ?? $"call_fake_{n}_{k}" };
            calls.Add(call);
            epilogue.AddRange(ToolCallEvents(call, output.Count, $"{(call.IsCustom ? "ctc" : "fc")}_fake_{n}_{k}", out var item));
            output.Add(item);
        }

        epilogue.Add(
            Sse("response.completed", new JsonObject
            {
                ["type"] = "response.completed",
                ["response"] = new JsonObject
                {
                    ["id"] = responseId,
                    ["object"] = "response",
                    ["model"] = model,
                    ["status"] = "completed",
                    ["output"] = output,
                    ["usage"] = new JsonObject
                    {
                        ["input_tokens"] = InputTokens,
                        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                        ["output_tokens"] = OutputTokens,
                        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                        ["total_tokens"] = InputTokens + OutputTokens,
                    },
                },
            }));

        return StreamReplyAsync(context, request, reply, turn.IsTitleRequest, "text/event-stream", prologue, Delta, epilogue, cancellationToken, calls);
    }

    /// <summary>
    /// The SSE events of one tool call as the Responses API streams it: <c>output_item.added</c> (empty
    /// arguments), the arguments (or a custom tool's input) as one delta and its done event, then
    /// <c>output_item.done</c> with the whole item, which is what Codex acts on.
    /// </summary>
    private static IEnumerable<string> ToolCallEvents(FakeToolCall call, int outputIndex, string itemId, out JsonObject item)
    {
        var (field, eventPrefix, type) = call.IsCustom
            ? ("input", "response.custom_tool_call_input", "custom_tool_call")
            : ("arguments", "response.function_call_arguments", "function_call");
        item = new JsonObject
        {
            ["type"] = type,
            ["id"] = itemId,
            ["call_id"] = call.Id,
            ["name"] = call.Name,
            [field] = call.WireArguments,
            ["status"] = "completed",
        };
        var added = (JsonObject)item.DeepClone();
        added[field] = string.Empty;
        added["status"] = "in_progress";
        return
        [
            Sse("response.output_item.added", new JsonObject { ["type"] = "response.output_item.added", ["output_index"] = outputIndex, ["item"] = added }),
            Sse(eventPrefix + ".delta", new JsonObject { ["type"] = eventPrefix + ".delta", ["item_id"] = itemId, ["output_index"] = outputIndex, ["delta"] = call.WireArguments }),
            Sse(eventPrefix + ".done", new JsonObject { ["type"] = eventPrefix + ".done", ["item_id"] = itemId, ["output_index"] = outputIndex, [field] = call.WireArguments }),
            Sse("response.output_item.done", new JsonObject { ["type"] = "response.output_item.done", ["output_index"] = outputIndex, ["item"] = item.DeepClone() }),
        ];
    }

    private static string Sse(string eventName, JsonObject data) => $"event: {eventName}\ndata: {data.ToJsonString()}\n\n";
}

/// <summary>
/// The tools Codex 0.169 offers the model (its <c>tools</c> array), as fake tool calls. The shell is
/// <c>exec_command</c> (unified exec; offered whatever the catalog's <c>shell_type</c>); <c>apply_patch</c>
/// is a custom (freeform, lark grammar) tool, offered only when the model's catalog entry says
/// <c>apply_patch_tool_type = "freeform"</c> (the only value 0.169 accepts); <c>update_plan</c> only with
/// <c>[tools] update_plan = { enabled = true }</c> in config.toml. <see cref="CodexHomeOptions.EditAndPlanTools"/> turns both on.
/// </summary>
public static class CodexTools
{
    public const string Shell = "exec_command";
    public const string ApplyPatchTool = "apply_patch";
    public const string UpdatePlanTool = "update_plan";

    /// <summary>
    /// <c>exec_command</c>: <c>{cmd, workdir?, sandbox_permissions?: "require_escalated", justification?, login}</c>.
    /// <paramref name="escalated"/> asks to run outside the sandbox: with <c>approval_policy = "on-request"</c>
    /// Codex shows "Would you like to run the following command?" first, with <paramref name="justification"/>
    /// as its "Reason:". <paramref name="login"/> false runs <c>bash -c</c> instead of <c>bash -lc</c> (no
    /// profile scripts printing into the output).
    /// </summary>
    public static FakeToolCall Exec(string cmd, string? workdir = null, bool escalated = false, string? justification = null, bool login = false)
    {
        var args = new JsonObject { ["cmd"] = cmd };
        if (workdir is not null)
        {
            args["workdir"] = workdir;
        }

        if (escalated)
        {
            args["sandbox_permissions"] = "require_escalated";
            args["justification"] = justification ?? "Run this command outside the sandbox?";
        }

        args["login"] = login;
        return FakeToolCall.Function(Shell, args);
    }

    /// <summary><c>apply_patch</c> (custom tool) with a whole patch (<c>*** Begin Patch</c> … <c>*** End Patch</c>).</summary>
    public static FakeToolCall ApplyPatch(string patch) => FakeToolCall.Custom(ApplyPatchTool, patch);

    /// <summary>A patch that adds <paramref name="path"/> (relative to the cwd, or absolute) with <paramref name="content"/>.</summary>
    public static string AddFilePatch(string path, string content) =>
        "*** Begin Patch\n*** Add File: " + path + "\n"
        + string.Concat(content.TrimEnd('\n').Split('\n').Select(l => "+" + l + "\n"))
        + "*** End Patch\n";

    /// <summary>A patch that replaces the line <paramref name="oldLine"/> of <paramref name="path"/> by <paramref name="newLine"/>.</summary>
    public static string ReplaceLinePatch(string path, string oldLine, string newLine) =>
        "*** Begin Patch\n*** Update File: " + path + "\n@@\n-" + oldLine + "\n+" + newLine + "\n*** End Patch\n";

    /// <summary><c>update_plan</c>: <c>{explanation?, plan: [{step, status: pending|in_progress|completed}]}</c>.</summary>
    public static FakeToolCall UpdatePlan(string? explanation, params (string Step, string Status)[] plan)
    {
        var args = new JsonObject();
        if (explanation is not null)
        {
            args["explanation"] = explanation;
        }

        args["plan"] = new JsonArray([.. plan.Select(p => (JsonNode)new JsonObject { ["step"] = p.Step, ["status"] = p.Status })]);
        return FakeToolCall.Function(UpdatePlanTool, args);
    }
}
