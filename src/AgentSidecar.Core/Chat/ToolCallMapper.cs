using System.Text.Json;
using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Chat;

/// <summary>What a recorded tool call is, in the chat's terms.</summary>
internal sealed record MappedTool(string Kind, string Title, string? Command, string? Cwd, IReadOnlyList<EditedFile> Edits, IReadOnlyList<PlanEntry>? Plan, IReadOnlyList<ToolLocation>? Locations);

/// <summary>A file an edit tool names, with what the call itself says of the change.</summary>
internal sealed record EditedFile(string Path, string? OldFragment, string? NewFragment, string? Patch, bool Created, bool Deleted);

/// <summary>
/// Turns the agents' own tool names and arguments (Codex's <c>exec_command</c>, <c>apply_patch</c>,
/// <c>update_plan</c>; Claude Code's <c>Bash</c>, <c>Edit</c>, <c>Write</c>, <c>TodoWrite</c>, …) into a
/// kind, a title, a command, the files an edit touches and a plan. Unknown tools are <c>other</c>
/// with their name as the title.
/// </summary>
internal static class ToolCallMapper
{
    private const int MaxTitleChars = 120;

    public static MappedTool Map(ToolCall call, string cwd)
    {
        using var args = Parse(call.Arguments);
        var a = args?.RootElement ?? default;
        switch (call.Name)
        {
            case "exec_command" or "shell" or "local_shell" or "container.exec" or "shell_command":
            {
                var command = CommandText(a);
                return new MappedTool(ToolKinds.Execute, Title(command ?? call.Name), command, Str(a, "workdir") ?? Str(a, "cwd") ?? cwd, [], null, null);
            }

            case "launch-process":
            {
                var command = Str(a, "command");
                var dir = Str(a, "cwd") is { } d && d != "." ? Absolute(d, cwd) : cwd;
                return new MappedTool(ToolKinds.Execute, Title(command ?? call.Name), command, dir, [], null, null);
            }

            case "save-file":
            {
                // Auggie's save-file makes new files (str-replace-editor edits existing ones).
                var path = Absolute(Str(a, "path") ?? string.Empty, cwd);
                return new MappedTool(ToolKinds.Edit, Title($"Write {Relative(path, cwd)}"), null, cwd, [new EditedFile(path, null, Str(a, "file_content"), null, true, false)], null, [new ToolLocation(path)]);
            }

            case "str-replace-editor":
            {
                var path = Absolute(Str(a, "path") ?? string.Empty, cwd);
                return new MappedTool(ToolKinds.Edit, Title($"Edit {Relative(path, cwd)}"), null, cwd, [new EditedFile(path, Str(a, "old_str_1") ?? Str(a, "old_str"), Str(a, "new_str_1") ?? Str(a, "new_str"), null, false, false)], null, [new ToolLocation(path)]);
            }

            case "view":
            {
                var path = Absolute(Str(a, "path") ?? string.Empty, cwd);
                return new MappedTool(ToolKinds.Read, Title($"Read {Relative(path, cwd)}"), null, cwd, [], null, [new ToolLocation(path)]);
            }

            case "remove-files":
                return new MappedTool(ToolKinds.Delete, "Remove files", null, cwd, [], null, null);

            case "web-fetch":
                return new MappedTool(ToolKinds.Fetch, Title($"Fetch {Str(a, "url") ?? string.Empty}".Trim()), null, cwd, [], null, null);

            case "add_tasks" or "update_tasks":
                return new MappedTool(ToolKinds.Think, "Update tasks", null, cwd, [], AuggieTasks(a), null);

            case "Bash":
            {
                var command = Str(a, "command");
                return new MappedTool(ToolKinds.Execute, Title(Str(a, "description") ?? command ?? "Bash"), command, cwd, [], null, null);
            }

            case "apply_patch":
            {
                var patch = args is null ? call.Arguments : Str(a, "input") ?? call.Arguments;
                var files = PatchFiles.Parse(patch ?? string.Empty).Select(f => f with { Path = Absolute(f.Path, cwd) }).ToList();
                var kind = files.Count > 0 && files.All(f => f.Deleted) ? ToolKinds.Delete : ToolKinds.Edit;
                return new MappedTool(kind, Title(files.Count == 0 ? "apply_patch" : $"Edit {string.Join(", ", files.Select(f => Relative(f.Path, cwd)))}"), null, cwd, files, null, files.Select(f => new ToolLocation(f.Path)).ToList());
            }

            case "Edit" or "MultiEdit" or "Write" or "NotebookEdit":
            {
                var path = Absolute(Str(a, "file_path") ?? Str(a, "notebook_path") ?? string.Empty, cwd);
                var edit = call.Name switch
                {
                    "Write" => new EditedFile(path, null, Str(a, "content"), null, !File.Exists(path), false),
                    "MultiEdit" => new EditedFile(path, null, null, null, false, false),
                    _ => new EditedFile(path, Str(a, "old_string"), Str(a, "new_string"), null, false, false),
                };
                return new MappedTool(ToolKinds.Edit, Title($"{(call.Name == "Write" ? "Write" : "Edit")} {Relative(path, cwd)}"), null, cwd, [edit], null, [new ToolLocation(path)]);
            }

            case "Read" or "view_image" or "NotebookRead":
            {
                var path = Absolute(Str(a, "file_path") ?? Str(a, "path") ?? string.Empty, cwd);
                return new MappedTool(ToolKinds.Read, Title($"Read {Relative(path, cwd)}"), null, cwd, [], null, [new ToolLocation(path, (int?)Long(a, "offset"))]);
            }

            case "Grep" or "Glob" or "LS":
                return new MappedTool(ToolKinds.Search, Title($"{call.Name} {Str(a, "pattern") ?? Str(a, "path") ?? string.Empty}".Trim()), null, cwd, [], null, null);

            case "WebFetch" or "WebSearch" or "web_search":
                return new MappedTool(ToolKinds.Fetch, Title($"{call.Name} {Str(a, "url") ?? Str(a, "query") ?? string.Empty}".Trim()), null, cwd, [], null, null);

            case "update_plan":
                return new MappedTool(ToolKinds.Think, "Update plan", null, cwd, [], Entries(a, "plan", "step"), null);

            case "TodoWrite":
                return new MappedTool(ToolKinds.Think, "Update plan", null, cwd, [], Entries(a, "todos", "content"), null);

            default:
                return new MappedTool(ToolKinds.Other, Title(call.Name), null, cwd, [], null, null);
        }
    }

    /// <summary>The command a shell tool runs: a string, or an argv whose last part is the script of <c>bash -lc</c>.</summary>
    private static string? CommandText(JsonElement a)
    {
        foreach (var name in new[] { "cmd", "command" })
        {
            var v = a.ValueKind == JsonValueKind.Object ? a.Prop(name) : default;
            if (v.ValueKind == JsonValueKind.String)
            {
                return v.GetString();
            }

            if (v.ValueKind == JsonValueKind.Array)
            {
                var parts = v.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToList();
                return parts.Count >= 3 && parts[^2] is "-lc" or "-c" ? parts[^1] : string.Join(' ', parts);
            }
        }

        return null;
    }

    private static List<PlanEntry>? Entries(JsonElement a, string list, string text)
    {
        if (a.ValueKind != JsonValueKind.Object || a.Prop(list).ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        return a.Prop(list).EnumerateArray()
            .Select(e => new PlanEntry(e.Str(text) ?? string.Empty, e.Str("status") is PlanStatuses.InProgress or PlanStatuses.Completed ? e.Str("status")! : PlanStatuses.Pending))
            .ToList();
    }

    /// <summary>Auggie's task tools: <c>{tasks: [{name, description?, state?}]}</c>, states like NOT_STARTED, IN_PROGRESS, COMPLETE.</summary>
    private static List<PlanEntry>? AuggieTasks(JsonElement a)
    {
        if (a.ValueKind != JsonValueKind.Object || a.Prop("tasks").ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        return a.Prop("tasks").EnumerateArray().Select(t =>
        {
            var state = t.Str("state") ?? string.Empty;
            var status = state.Contains("PROGRESS", StringComparison.OrdinalIgnoreCase) ? PlanStatuses.InProgress
                : state.Contains("COMPLETE", StringComparison.OrdinalIgnoreCase) ? PlanStatuses.Completed : PlanStatuses.Pending;
            return new PlanEntry(t.Str("name") ?? t.Str("description") ?? string.Empty, status);
        }).ToList();
    }

    private static JsonDocument? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json) || json.TrimStart()[0] != '{')
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Str(JsonElement a, string name) => a.ValueKind == JsonValueKind.Object ? a.Str(name) : null;

    private static long? Long(JsonElement a, string name) => a.ValueKind == JsonValueKind.Object ? a.Long(name) : null;

    private static string Title(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length <= MaxTitleChars ? line : string.Concat(line.AsSpan(0, MaxTitleChars - 1), "…");
    }

    private static string Absolute(string path, string cwd) =>
        path.Length == 0 || Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(cwd, path));

    private static string Relative(string path, string cwd) =>
        path.StartsWith(cwd + "/", StringComparison.Ordinal) ? path[(cwd.Length + 1)..] : path;
}
