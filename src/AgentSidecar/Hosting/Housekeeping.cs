using AgentSidecar.Core.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// Every <c>cleanup.intervalSeconds</c>: recovers sessions of sidecars that died meanwhile, suspends
/// idle sessions and purges old ended ones. A failure is logged and the next round goes on.
/// </summary>
internal sealed partial class Housekeeping(SidecarStartup startup, ProcessSettings settings, IServiceProvider services, ILogger<Housekeeping> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await startup.IsReadyAsync().ConfigureAwait(false))
        {
            return;
        }

        var sessions = services.GetRequiredService<SessionManager>();
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = settings.Cleanup.IntervalSeconds;
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(interval > 0 ? interval : 60), stoppingToken).ConfigureAwait(false);
                var cleanup = settings.Cleanup;
                if (cleanup.IntervalSeconds <= 0 || startup.SessionsStopped)
                {
                    continue;
                }

                await sessions.RecoverOrphansAsync().ConfigureAwait(false);
                var result = await sessions.CleanupAsync(TimeSpan.FromSeconds(cleanup.IdleSeconds), TimeSpan.FromDays(cleanup.PurgeOlderThanDays)).ConfigureAwait(false);
                if (result.Ended.Count + result.Purged.Count > 0)
                {
                    LogCleanup(logger, result.Ended.Count, result.Purged.Count);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                LogHousekeepingFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "cleanup: {Suspended} idle session(s) suspended, {Purged} old session(s) purged")]
    private static partial void LogCleanup(ILogger logger, int suspended, int purged);

    [LoggerMessage(Level = LogLevel.Error, Message = "housekeeping (orphans, cleanup) failed; it runs again at the next interval")]
    private static partial void LogHousekeepingFailed(ILogger logger, Exception ex);
}
