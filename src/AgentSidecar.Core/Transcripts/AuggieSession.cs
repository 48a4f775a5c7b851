using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// Reads Auggie's <c>~/.augment/sessions/&lt;id&gt;.json</c>: <c>{sessionId, created, modified, chatHistory:
/// [{exchange: {request_message, response_text, request_nodes, response_nodes}, completed, finishedAt}]}</c>.
/// Node types used: request 0 = text_node, 1 = tool_result_node, 4 = ide_state_node; response 0 = streamed text, 5 = tool_use.
/// </summary>
internal static class AuggieSession
{
    private const int TextNode = 0;
    private const int ToolResultNode = 1;
    private const int IdeStateNode = 4;
    private const int ToolUseNode = 5;

    public static string? SessionId(JsonElement root) => root.Str("sessionId");

    public static DateTimeOffset? Created(JsonElement root) => TranscriptJson.Time(root.Str("created"));

    /// <summary>The working directory (first) and workspace folders the exchanges were sent from.</summary>
    public static List<string> Directories(JsonElement root)
    {
        var dirs = new List<string>();
        foreach (var entry in root.Items("chatHistory"))
        {
            foreach (var node in entry.Prop("exchange").Items("request_nodes"))
            {
                var ide = node.Prop("ide_state_node");
                if (node.Long("type") != IdeStateNode || ide.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                if (ide.Prop("current_terminal").Str("current_working_directory") is { Length: > 0 } cwd)
                {
                    dirs.Add(cwd);
                }
                foreach (var folder in ide.Items("workspace_folders"))
                {
                    if (folder.Str("folder_root") is { Length: > 0 } root2)
                    {
                        dirs.Add(root2);
                    }
                }
                if (dirs.Count > 0)
                {
                    return dirs;
                }
            }
        }
        return dirs;
    }

    public static string? RequestText(JsonElement exchange)
    {
        if (exchange.Str("request_message") is { Length: > 0 } message)
        {
            return message;
        }
        // The CLI has also been seen to leave request_message empty and keep the text in the nodes.
        return TranscriptJson.JoinText(exchange.Items("request_nodes")
            .Where(n => n.Long("type") == TextNode)
            .Select(n => n.Prop("text_node").Str("content")));
    }

    public static string? FirstUserMessage(JsonElement root) =>
        root.Items("chatHistory").Select(e => RequestText(e.Prop("exchange"))).FirstOrDefault(t => t is not null);

    /// <summary>The items of one chatHistory entry, in the order they happened.</summary>
    public static void Exchange(JsonElement entry, List<TranscriptItem> items)
    {
        var exchange = entry.Prop("exchange");
        var responseNodes = exchange.Items("response_nodes").ToList();
        var finished = TranscriptJson.Time(entry.Str("finishedAt"));

        // An exchange that follows a tool call carries the call's result in its request.
        foreach (var node in exchange.Items("request_nodes").Where(n => n.Long("type") == ToolResultNode))
        {
            var result = node.Prop("tool_result_node");
            if (result.Str("tool_use_id") is { } id)
            {
                items.Add(AuggieToolOutput.Read(id, result.Str("content"), result.Bool("is_error") == true, TranscriptJson.UnixMs(result.Long("start_time_ms")) ?? finished));
            }
        }

        // No request time is stored: the first streamed piece is the closest known moment.
        var firstPiece = responseNodes.Select(n => TranscriptJson.UnixMs(n.Long("timestamp_ms"))).Where(t => t is not null).Min();
        if (RequestText(exchange) is { } request)
        {
            items.Add(new UserMessage(request, firstPiece ?? finished));
        }
        var answer = exchange.Str("response_text") is { Length: > 0 } text
            ? text
            : string.Concat(responseNodes.Where(n => n.Long("type") == TextNode).Select(n => n.Str("content")));
        if (answer.Length > 0)
        {
            items.Add(new AssistantMessage(answer, finished));
        }
        bool usedTool = false;
        foreach (var node in responseNodes.Where(n => n.Long("type") == ToolUseNode))
        {
            usedTool = true;
            var use = node.Prop("tool_use");
            items.Add(new ToolCall(use.Str("tool_name") ?? "unknown", TranscriptJson.UnixMs(node.Long("timestamp_ms")) ?? finished)
            {
                CallId = use.Str("tool_use_id"),
                Arguments = use.Str("input_json"),
            });
        }
        switch (entry.Bool("completed"))
        {
            case false:
                items.Add(new TurnAborted("interrupted", finished));
                break;
            case true or null when !usedTool:
                // An exchange that called a tool continues in the next one (its request carries the result).
                items.Add(new TurnCompleted(answer.Length > 0 ? answer : null, null, finished));
                break;
        }
    }
}
