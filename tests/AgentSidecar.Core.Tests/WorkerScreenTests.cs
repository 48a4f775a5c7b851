using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Tests;

/// <summary>A worker's screen keeps following its output whatever its OSC subscribers do.</summary>
public sealed class WorkerScreenTests
{
    private static StoredEvent Output(long seq, string text) =>
        new("s1", seq, 0, Channels.Pty, "output", "w1", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { data = text })));

    [Fact]
    public async Task ASubscriberWhosePatternTimesOut_DoesNotStopTheScreen()
    {
        var screen = new WorkerScreen("w1", 80, 24);
        screen.SubscribeOsc((_, _) => throw new RegexMatchTimeoutException("x", "y", TimeSpan.FromMilliseconds(1)));

        await screen.DeliverAsync([Output(1, "before\u001b]7777;idle\u0007\r\n")], TestContext.Current.CancellationToken);
        await screen.DeliverAsync([Output(2, "after\r\n")], TestContext.Current.CancellationToken);

        var text = string.Join('\n', screen.Snapshot(withAnsi: false).Lines);
        Assert.Contains("before", text, StringComparison.Ordinal);
        Assert.Contains("after", text, StringComparison.Ordinal);
        Assert.Equal(1, screen.FailedOscHandlers);
    }
}
