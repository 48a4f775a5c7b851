using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// A metrics endpoint on 127.0.0.1 for the tests: records every record it is sent, counts
/// duplicates (the same id twice), and can be switched to answer 503 ("down").
/// </summary>
public sealed class FakeMetricsReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<JsonElement> _records = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private readonly Task _loop;
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeMetricsReceiver(int port)
    {
        Url = new Uri($"http://127.0.0.1:{port}/metrics");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Url { get; }

    /// <summary>While true every request gets 503 and nothing is recorded.</summary>
    public bool Down { get; set; }

    public int Posts { get; private set; }

    public int RejectedPosts { get; private set; }

    public List<string> AuthorizationHeaders { get; } = [];

    /// <summary>Every distinct record received, in arrival order.</summary>
    public List<JsonElement> Records
    {
        get
        {
            lock (_lock)
            {
                return [.. _records];
            }
        }
    }

    public int Duplicates { get; private set; }

    public static Task<FakeMetricsReceiver> StartAsync()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return Task.FromResult(new FakeMetricsReceiver(port));
    }

    /// <summary>The records of one session, as "kind" or "kind:reason".</summary>
    public List<string> KindsOf(string sessionId) =>
        Records.Where(r => r.GetProperty("sessionId").GetString() == sessionId)
            .Select(r => r.TryGetProperty("reason", out var reason) ? $"{r.GetProperty("kind").GetString()}:{reason.GetString()}" : r.GetProperty("kind").GetString()!)
            .ToList();

    public async Task WaitUntilAsync(Func<FakeMetricsReceiver, bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition(this))
        {
            Task next;
            lock (_lock)
            {
                next = _received.Task;
            }

            if (condition(this))
            {
                return;
            }

            await next.WaitAsync(cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                lock (_lock)
                {
                    Posts++;
                    AuthorizationHeaders.Add(context.Request.Headers["Authorization"] ?? string.Empty);
                }

                if (Down)
                {
                    // Read the request like a real server would: an unread body on a kept-alive
                    // connection would stall the client's next request on it.
                    await context.Request.InputStream.CopyToAsync(Stream.Null);
                    TaskCompletionSource rejected;
                    lock (_lock)
                    {
                        RejectedPosts++;
                        rejected = _received;
                        _received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }

                    context.Response.StatusCode = 503;
                    context.Response.Close();
                    rejected.TrySetResult();
                    continue;
                }

                using var doc = await JsonDocument.ParseAsync(context.Request.InputStream);
                TaskCompletionSource done;
                lock (_lock)
                {
                    foreach (var r in doc.RootElement.GetProperty("records").EnumerateArray())
                    {
                        if (_ids.Add(r.GetProperty("id").GetString()!))
                        {
                            _records.Add(r.Clone());
                        }
                        else
                        {
                            Duplicates++;
                        }
                    }

                    done = _received;
                    _received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                context.Response.StatusCode = 200;
                context.Response.Close();
                done.TrySetResult();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or JsonException or KeyNotFoundException)
            {
                context.Response.StatusCode = 400;
                context.Response.Close();
            }
        }
    }
}
