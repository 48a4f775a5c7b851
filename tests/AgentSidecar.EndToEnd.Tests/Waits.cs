namespace AgentSidecar.EndToEnd.Tests;

/// <summary>Waiting for an observable condition, never for a fixed time.</summary>
internal static class Waits
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
