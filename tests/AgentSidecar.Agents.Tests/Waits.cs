using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Tests;

internal static class Waits
{
    /// <summary>Polls session/get until the session has <paramref name="status"/> (30 s at most).</summary>
    public static async Task<JsonElement> StatusAsync(RpcClient c, string sessionId, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var s = await c.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId });
            if (s.GetProperty("status").GetString() == status || DateTime.UtcNow > deadline)
            {
                Assert.Equal(status, s.GetProperty("status").GetString());
                return s;
            }

            await Task.Delay(50);
        }
    }
}
