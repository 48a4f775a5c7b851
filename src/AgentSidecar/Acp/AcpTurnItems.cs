using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.Core.Chat;

namespace AgentSidecar.Acp;

/// <summary>
/// The structured items of a turn (<c>chat/tool</c>, <c>chat/plan</c>, <c>chat/approval</c>) as ACP
/// updates. The sidecar writes an item whole on every change; ACP announces a tool call once
/// (<c>tool_call</c>) and then changes it (<c>tool_call_update</c>), so this remembers which ids it
/// announced. The vocabularies (kinds, statuses, option kinds) are ACP's already. Not thread-safe:
/// one session's events are mapped in order by one reader.
/// </summary>
internal sealed class AcpTurnItems(string workspace)
{
    /// <summary>ACP plan entries have a priority; the agents' plans do not.</summary>
    private const string PlanPriority = "medium";

    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);

    public SessionUpdate Tool(ChatToolData tool)
    {
        var content = Content(tool);
        var locations = tool.Locations?.Select(l => new ToolCallLocation(Absolute(l.Path), l.Line)).ToList();
        if (_announced.Add(tool.ToolCallId))
        {
            return new ToolCall(tool.ToolCallId, tool.Title, tool.Kind, tool.Status, content, locations, RawInput(tool), RawOutput(tool));
        }

        return new ToolCallUpdate(tool.ToolCallId, tool.Title, tool.Kind, tool.Status, content, locations, RawInput(tool), RawOutput(tool));
    }

    public static PlanUpdate Plan(ChatPlanData plan) =>
        new([.. plan.Entries.Select(e => new AcpPlanEntry(e.Text, PlanPriority, e.Status))]);

    /// <summary>
    /// The tool call a permission request is about. An approval seen on the screen before the call
    /// is in the transcript has no call yet: it is announced here, pending, under the approval's id.
    /// </summary>
    public (SessionUpdate? Announce, ToolCallUpdate Subject) ApprovalSubject(ChatApprovalData approval)
    {
        var id = approval.ToolCallId ?? approval.ApprovalId;
        var subject = new ToolCallUpdate(id, Title: approval.Title, Status: ToolStatuses.Pending, Content: Detail(approval.Detail));
        if (_announced.Add(id))
        {
            return (new ToolCall(id, approval.Title, ToolKinds.Other, ToolStatuses.Pending, Detail(approval.Detail), null, null, null), subject);
        }

        return (null, subject);
    }

    public static IReadOnlyList<PermissionOption> Options(ChatApprovalData approval) =>
        [.. approval.Options.Select(o => new PermissionOption(o.OptionId, o.Label, o.Kind))];

    private static List<ToolCallContent>? Detail(string detail) =>
        detail.Trim().Length == 0 ? null : [new ToolCallText(new ContentBlock("text", detail))];

    /// <summary>An edit's files as diffs (absolute paths, as ACP wants); a command's output as text.</summary>
    private List<ToolCallContent>? Content(ChatToolData tool)
    {
        var content = new List<ToolCallContent>();
        foreach (var file in tool.Files ?? [])
        {
            content.Add(new ToolCallDiff(Absolute(file.Path), file.OldText, file.NewText ?? string.Empty));
        }

        if (tool.Output is { Length: > 0 } output)
        {
            var cut = tool.OutputTruncated == true ? "…(earlier output cut)\n" : string.Empty;
            content.Add(new ToolCallText(new ContentBlock("text", $"```\n{cut}{output.TrimEnd('\n')}\n```")));
        }

        return content.Count == 0 ? null : content;
    }

    private static JsonElement? RawInput(ChatToolData tool) =>
        tool.Command is null ? null : Element(new JsonObject { ["command"] = tool.Command, ["cwd"] = tool.Cwd });

    private static JsonElement? RawOutput(ChatToolData tool) =>
        tool.ExitCode is null && tool.Output is null ? null : Element(new JsonObject { ["exitCode"] = tool.ExitCode, ["output"] = tool.Output });

    private static JsonElement Element(JsonObject o) => JsonSerializer.SerializeToElement(o, AcpJsonContext.Default.JsonObject);

    private string Absolute(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(workspace, path));
}
