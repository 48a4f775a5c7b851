using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using AgentSidecar.Store;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Metrics;

public sealed record MetricsStatus(long Pending, long Sent, long Failing, DateTimeOffset? LastSyncAt, string? LastError, string? Endpoint);

/// <summary>
/// Sends the outbox to the metrics endpoint: every interval, and at once when asked (a session ended
/// or was cleared). Batches are JSON <c>{"records": [...]}</c> POSTs; every record carries its stable
/// id, so a batch sent twice (a crash between the POST and marking it sent) is deduplicated by the
/// receiver. Failures back off exponentially with jitter; nothing here ever waits on a session, and
/// no session ever waits on this.
/// </summary>
public sealed partial class MetricsSync : IAsyncDisposable
{
    private readonly SidecarStore _store;
    private readonly StoreWriter _writer;
    private readonly TimeProvider _clock;
    private readonly Func<string, string?> _env;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _lock = new();
    private TaskCompletionSource _trigger = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _failures;
    private DateTimeOffset _retryAt;
    private DateTimeOffset? _lastSyncAt;
    private string? _lastError;

    public MetricsSync(SidecarStore store, StoreWriter writer, TimeProvider clock, Func<string, string?> env, ILogger<MetricsSync> logger, HttpMessageHandler? handler = null)
    {
        _store = store;
        _writer = writer;
        _clock = clock;
        _env = env;
        _logger = logger;
        _http = handler is null ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), UseProxy = false }) : new HttpClient(handler);
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    public MetricsOptions Options { get; set; } = new();

    public void Start() => _loop ??= Task.Run(LoopAsync);

    /// <summary>Asks for a sync now (a session ended or was cleared).</summary>
    public void TriggerNow()
    {
        lock (_lock)
        {
            _trigger.TrySetResult();
        }
    }

    public MetricsStatus Status()
    {
        var s = _store.OutboxStatus();
        return new MetricsStatus(s.Pending, s.Sent, s.Failing, _lastSyncAt, _lastError, Options.Endpoint?.GetLeftPart(UriPartial.Path));
    }

    /// <summary>Sends everything pending now (ignoring the back-off); returns how many records went out.</summary>
    public async Task<(int Sent, long Pending)> FlushAsync(CancellationToken cancellationToken)
    {
        var sent = await SendPendingAsync(ignoreBackoff: true, cancellationToken).ConfigureAwait(false);
        return (sent, _store.OutboxStatus().Pending);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _http.Dispose();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            Task trigger;
            lock (_lock)
            {
                trigger = _trigger.Task;
            }

            // After a failure the next attempt is at the back-off time, or at once if that has passed
            // already (a busy machine): never a whole interval later.
            var wait = _failures > 0 && Options.Endpoint is not null
                ? TimeSpan.FromTicks(Math.Max(0, (_retryAt - _clock.GetUtcNow()).Ticks))
                : TimeSpan.FromSeconds(Options.IntervalSeconds);
            await Task.WhenAny(trigger, Task.Delay(wait, ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            lock (_lock)
            {
                if (_trigger.Task.IsCompleted)
                {
                    _trigger = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            try
            {
                await SendPendingAsync(ignoreBackoff: false, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSyncFailed(_logger, ex.Message);
            }
        }
    }

    private async Task<int> SendPendingAsync(bool ignoreBackoff, CancellationToken ct)
    {
        if (Options.Endpoint is not { } endpoint)
        {
            return 0;
        }

        await _sending.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!ignoreBackoff && _failures > 0 && _clock.GetUtcNow() < _retryAt)
            {
                return 0;
            }

            var total = 0;
            while (true)
            {
                var batch = _store.Pending(Options.BatchSize);
                if (batch.Count == 0)
                {
                    return total;
                }

                var error = await PostAsync(endpoint, batch, ct).ConfigureAwait(false);
                var ids = batch.Select(r => r.Id).ToList();
                if (error is null)
                {
                    await _writer.WriteAsync(ctx =>
                    {
                        MetricsOutbox.MarkSent(ctx, ids, ctx.Now);
                        return 0;
                    }).ConfigureAwait(false);
                    total += batch.Count;
                    _failures = 0;
                    _lastSyncAt = _clock.GetUtcNow();
                    _lastError = null;
                    continue;
                }

                await _writer.WriteAsync(ctx =>
                {
                    MetricsOutbox.MarkFailed(ctx, ids, error);
                    return 0;
                }).ConfigureAwait(false);
                _failures++;
                _lastError = error;
                var backoff = Math.Min(Options.MaxBackoffSeconds, Options.BackoffSeconds * Math.Pow(2, Math.Min(_failures - 1, 20)));
                _retryAt = _clock.GetUtcNow() + TimeSpan.FromSeconds(backoff * (0.5 + Random.Shared.NextDouble()));
                LogSyncFailed(_logger, error);
                return total;
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>POSTs one batch; null on success, else what went wrong (never a header value).</summary>
    private async Task<string?> PostAsync(Uri endpoint, List<OutboxRecord> batch, CancellationToken ct)
    {
        using var body = new MemoryStream();
        body.Write("{\"records\":["u8);
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0)
            {
                body.WriteByte((byte)',');
            }

            body.Write(batch[i].Record);
        }

        body.Write("]}"u8);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", BatchKey(batch));
        foreach (var (name, value) in Options.Headers)
        {
            var v = value.Env is { } envName ? _env(envName) : value.Value;
            if (v is not null)
            {
                request.Headers.TryAddWithoutValidation(name, v);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(Options.TimeoutSeconds));
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null : $"the endpoint answered HTTP {(int)response.StatusCode}";
        }
        catch (HttpRequestException ex)
        {
            return $"cannot reach the endpoint: {ex.HttpRequestError}";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"the endpoint did not answer within {Options.TimeoutSeconds} s";
        }
    }

    /// <summary>The same batch always gets the same key.</summary>
    private static string BatchKey(List<OutboxRecord> batch) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(',', batch.Select(r => r.Id)))))[..32];

    [LoggerMessage(Level = LogLevel.Warning, Message = "metrics sync failed: {Error}; records stay queued and are retried")]
    private static partial void LogSyncFailed(ILogger logger, string error);
}
