using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core;

/// <summary>
/// Work that runs on its own, with nobody awaiting it. Problem: a fire-and-forget task's failure
/// vanishes. Solution: everything started in the background goes through here and a failure is
/// logged with what the work was.
/// </summary>
public static partial class BackgroundWork
{
    public static void Run(ILogger logger, string what, Func<Task> work) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogFailed(logger, ex, what);
            }
        });

    [LoggerMessage(Level = LogLevel.Error, Message = "background work failed: {What}")]
    private static partial void LogFailed(ILogger logger, Exception ex, string what);
}
