using System.Text.Json;
using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Chat;

/// <summary>
/// The tool calls of a session's turns, from the agent's transcript: a call becomes a
/// <c>chat/tool</c> item in progress, its result completes (or fails) it with the output's tail and,
/// for edits, each file's text before and after and their unified diff. Problem: Codex records only
/// a patch, Claude Code the replaced fragment. Solution: the file is read when the call is recorded
/// (before the agent applies it) and again when its result is, and the diff is made from the two.
/// </summary>
internal sealed class ToolTracker(string cwd)
{
    /// <summary>Files larger than this are not read for a diff (the patch the call carries is shown instead).</summary>
    private const long MaxFileBytes = 1 << 20;

    private const int MaxTracked = 256;

    private readonly Dictionary<string, Tracked> _calls = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>A call was recorded: the tool item as it now stands, or (for a plan tool) the plan instead.</summary>
    public (ChatToolData? Tool, ChatPlanData? Plan) Started(string turnId, ToolCall call)
    {
        var mapped = ToolCallMapper.Map(call, cwd);
        if (mapped.Plan is { } entries)
        {
            return (null, new ChatPlanData(turnId, entries));
        }

        var id = call.CallId ?? "call-" + Guid.CreateVersion7().ToString("N");
        var before = mapped.Edits.ToDictionary(e => e.Path, e => e.Created ? null : ReadText(e.Path), StringComparer.Ordinal);
        var data = new ChatToolData
        {
            TurnId = turnId,
            ToolCallId = id,
            Kind = mapped.Kind,
            Title = mapped.Title,
            Status = ToolStatuses.InProgress,
            Command = mapped.Command,
            Cwd = mapped.Command is null ? null : mapped.Cwd,
            Files = mapped.Edits.Count == 0 ? null : mapped.Edits.Select(e => Planned(e, before[e.Path])).ToList(),
            Locations = mapped.Locations,
        };
        Track(id, new Tracked(data, mapped, before));
        return (data, null);
    }

    /// <summary>A result was recorded: the tool item completed or failed (null for a call this tracker never saw).</summary>
    public ChatToolData? Finished(ToolResult result)
    {
        if (!_calls.TryGetValue(result.CallId, out var tracked))
        {
            return null;
        }

        var (output, truncated) = Tail(result.Output);
        var data = tracked.Data with
        {
            Status = result.IsError ? ToolStatuses.Failed : ToolStatuses.Completed,
            Output = tracked.Mapped.Edits.Count > 0 && !result.IsError ? null : output,
            OutputTruncated = truncated ? true : null,
            ExitCode = result.ExitCode,
            Files = tracked.Mapped.Edits.Count == 0 || result.IsError ? tracked.Data.Files : tracked.Mapped.Edits.Select(e => Applied(e, tracked, result)).ToList(),
        };
        _calls[result.CallId] = tracked with { Data = data };
        return data;
    }

    /// <summary>The command of a call still open (an approval that asks about it shows it).</summary>
    public string? Command(string toolCallId) =>
        _calls.TryGetValue(toolCallId, out var t) && t.Data.Status is not (ToolStatuses.Completed or ToolStatuses.Failed) ? t.Data.Command : null;

    /// <summary>The item with a new status (an approval for it appeared or was answered); null if unknown or already over.</summary>
    public ChatToolData? WithStatus(string toolCallId, string status)
    {
        if (!_calls.TryGetValue(toolCallId, out var tracked) || tracked.Data.Status is ToolStatuses.Completed or ToolStatuses.Failed || tracked.Data.Status == status)
        {
            return null;
        }

        var data = tracked.Data with { Status = status };
        _calls[toolCallId] = tracked with { Data = data };
        return data;
    }

    private static ToolFile Planned(EditedFile e, string? before) =>
        new(e.Path, e.Created ? null : before, e.Deleted ? null : e.NewFragment is not null && e.OldFragment is null ? e.NewFragment : null,
            e.Patch ?? (e.OldFragment is not null || e.NewFragment is not null ? UnifiedDiff.Make(e.Path, e.Created ? null : e.OldFragment ?? string.Empty, e.NewFragment ?? string.Empty) : string.Empty));

    private static ToolFile Applied(EditedFile e, Tracked tracked, ToolResult result)
    {
        var after = e.Deleted ? null : ReadText(e.Path);
        var before = e.Created ? null : Original(e, tracked, result, after);
        if (after is null && !e.Deleted)
        {
            return Planned(e, before);
        }

        // Read too late to see the change (the agent wrote before its record came): show what the call says.
        if (!e.Created && before == after && (e.OldFragment is not null || e.NewFragment is not null))
        {
            return Planned(e, null) with { NewText = after };
        }

        return new ToolFile(e.Path, before, after, UnifiedDiff.Make(e.Path, e.Created ? null : before ?? string.Empty, after));
    }

    /// <summary>
    /// The text before the edit. Problem: the agent may apply it before its call is read (Codex does,
    /// within milliseconds), so the file read then can be the result, or empty mid-write. Solution:
    /// Claude Code records the original file with its result; a patch is undone on the text after it;
    /// only else what was read when the call was seen.
    /// </summary>
    private static string? Original(EditedFile e, Tracked tracked, ToolResult result, string? after)
    {
        if (result.Details is { } details)
        {
            using var doc = JsonDocument.Parse(details);
            if (doc.RootElement.Str("originalFile") is { } original)
            {
                return original;
            }
        }

        if (e.Patch is { } patch && after is not null && PatchFiles.Reverse(after, patch) is { } reversed)
        {
            return reversed;
        }

        return tracked.Before.GetValueOrDefault(e.Path);
    }

    private static string? ReadText(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length <= MaxFileBytes ? File.ReadAllText(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static (string? Text, bool Truncated) Tail(string? output)
    {
        if (output is null || output.Length <= ChatToolData.MaxOutputChars)
        {
            return (output, false);
        }

        return (output[^ChatToolData.MaxOutputChars..], true);
    }

    private void Track(string id, Tracked tracked)
    {
        if (!_calls.ContainsKey(id))
        {
            _order.Enqueue(id);
            if (_order.Count > MaxTracked)
            {
                _calls.Remove(_order.Dequeue());
            }
        }

        _calls[id] = tracked;
    }

    private sealed record Tracked(ChatToolData Data, MappedTool Mapped, Dictionary<string, string?> Before);
}
