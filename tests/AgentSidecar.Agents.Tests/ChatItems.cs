using System.Text.Json;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Tests;

/// <summary>The agentic items (chat/tool, chat/approval, chat/plan) an attached client received, and waits for them.</summary>
internal static class ChatItems
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    public static List<JsonElement> Of(RpcClient c, string attachId, string type) =>
        c.Events(attachId).Where(e => e.GetProperty("type").GetString() == type).Select(e => e.GetProperty("data")).ToList();

    /// <summary>The pending approval once it names its call (the prompt and the call's record may come in either order).</summary>
    public static async Task<JsonElement> PendingApprovalAsync(RpcClient c, string attachId)
    {
        await c.WaitForEventsAsync(attachId, e => e.Any(x => x.GetProperty("type").GetString() == "approval" && x.GetProperty("data").TryGetProperty("toolCallId", out _)), Wait);
        return Of(c, attachId, "approval").Last(a => a.TryGetProperty("toolCallId", out _));
    }

    public static async Task<JsonElement> ResolvedAsync(RpcClient c, string attachId, string approvalId)
    {
        await c.WaitForEventsAsync(attachId, e => e.Any(x => x.GetProperty("type").GetString() == "approval"
            && x.GetProperty("data").GetProperty("approvalId").GetString() == approvalId && x.GetProperty("data").GetProperty("status").GetString() != "pending"), Wait);
        return Of(c, attachId, "approval").Last(a => a.GetProperty("approvalId").GetString() == approvalId);
    }
}
