using System.Net;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Store;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentSidecar.Core.Tests;

public sealed class MetricsSyncTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-sync-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A clock on a slow machine: every reading is 5 s later than the one before.</summary>
    private sealed class SlowClock : TimeProvider
    {
        private long _ticks = DateTimeOffset.UtcNow.Ticks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, TimeSpan.FromSeconds(5).Ticks), TimeSpan.Zero);
    }

    /// <summary>Fails the first POST with 503, accepts the rest; counts them.</summary>
    private sealed class FlakyEndpoint : HttpMessageHandler
    {
        private int _calls;

        public int Calls => _calls;

        public TaskCompletionSource Accepted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
            }

            Accepted.TrySetResult();
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }

    [Fact(Timeout = 30000)]
    public async Task AfterAFailure_WhenTheBackoffHasAlreadyPassed_RetriesAtOnce_NotAfterAWholeInterval()
    {
        var store = SidecarStore.Open(Path.Combine(_dir, "sidecar.db"));
        using var writer = new StoreWriter(store, TimeProvider.System);
        await writer.WriteAsync(ctx =>
        {
            MetricsOutbox.Add(ctx, new OutboxRecord("r1", "s1", "start", "{\"id\":\"r1\"}"u8.ToArray(), 1, 0));
            return 0;
        });
        var endpoint = new FlakyEndpoint();
        await using var sync = new MetricsSync(store, writer, new SlowClock(), _ => null, NullLogger<MetricsSync>.Instance, endpoint)
        {
            Options = new MetricsOptions { Endpoint = new Uri("http://127.0.0.1:9/metrics"), IntervalSeconds = 300, BackoffSeconds = 0.2, MaxBackoffSeconds = 1 },
        };
        sync.Start();
        sync.TriggerNow();

        // The first POST fails; the retry must follow within seconds, not after the 300 s interval.
        await endpoint.Accepted.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(2, endpoint.Calls);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (store.OutboxStatus().Pending > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, store.OutboxStatus().Pending);
    }
}
