using System.Globalization;
using System.Text.Json;

namespace AgentSidecar.Core.Transcripts.Tests;

/// <summary>Builds Auggie session documents shaped like the recorded one.</summary>
internal static class AuggieFiles
{
    public static string Document(string id, DateTimeOffset created, params string[] entries) =>
        $$"""
        {
          "sessionId": "{{id}}",
          "created": "{{created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}",
          "modified": "{{created.UtcDateTime.ToString("o", CultureInfo.InvariantCulture)}}",
          "chatHistory": [{{string.Join(",", entries)}}],
          "agentState": {},
          "customTitle": "t"
        }
        """;

    /// <summary>One chatHistory entry. <paramref name="cwd"/> null: no ide_state_node at all.</summary>
    public static string Entry(string requestId, string request, string response, bool completed = true, string? cwd = "/w",
        string extraResponseNodes = "", bool textOnlyInNodes = false, string finishedAt = "2026-11-21T10:00:01.000Z")
    {
        // Built by concatenation: the closing braces would clash with raw-string interpolation.
        var ide = cwd is null ? "" :
            "{\"id\":2,\"type\":4,\"ide_state_node\":{\"workspace_folders\":[{\"repository_root\":" + Q(cwd) + ",\"folder_root\":" + Q(cwd) + "}]," +
            "\"current_terminal\":{\"terminal_id\":0,\"current_working_directory\":" + Q(cwd) + "}}}";
        var textNode = request.Length == 0 ? "" : "{\"id\":1,\"type\":0,\"text_node\":{\"content\":" + Q(request) + "}}";
        var requestNodes = string.Join(",", new[] { textNode, ide }.Where(n => n.Length > 0));
        var responseNodes = response.Length == 0 ? "" : $$"""{"id":1,"type":0,"content":{{Q(response)}},"timestamp_ms":1795255200500}""";
        if (extraResponseNodes.Length > 0)
        {
            responseNodes = responseNodes.Length == 0 ? extraResponseNodes : responseNodes + "," + extraResponseNodes;
        }
        return $$"""
            {"exchange":{"request_message":{{Q(textOnlyInNodes ? "" : request)}},"response_text":{{Q(textOnlyInNodes ? "" : response)}},
              "request_id":{{Q(requestId)}},"request_nodes":[{{requestNodes}}],"response_nodes":[{{responseNodes}}]},
             "completed":{{(completed ? "true" : "false")}},"sequenceId":1,"finishedAt":{{Q(finishedAt)}},"changedFiles":[],"source":"local"}
            """;
    }

    public static string ToolUseNode(string name) =>
        $$"""{"id":2,"type":5,"tool_use":{"tool_use_id":"tu1","tool_name":{{Q(name)}},"input_json":"{}"},"timestamp_ms":1795255200600}""";

    private static string Q(string s) => JsonSerializer.Serialize(s, AuggieJson.Default.String);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class AuggieJson : System.Text.Json.Serialization.JsonSerializerContext;
