using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

public sealed class RpcErrorException(int code, string message, JsonElement? data) : Exception(message)
{
    public int Code { get; } = code;

    public JsonElement? ErrorData { get; } = data;
}

/// <summary>A minimal protocol client for the tests: framed JSON over any stream pair.</summary>
public sealed class RpcClient : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Stream _input;
    private readonly Stream _output;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly List<JsonElement> _notifications = [];
    private readonly object _lock = new();
    private TaskCompletionSource _notified = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextId;

    public RpcClient(Stream input, Stream output)
    {
        _input = input;
        _output = output;
        Reader = Task.Run(ReadLoopAsync);
    }

    public Task Reader { get; }

    public JsonElement? InitializeResult { get; private set; }

    /// <summary>Called on the reader for every notification as it arrives (benchmarks timestamp them).</summary>
    public Action<JsonElement>? OnNotification { get; set; }

    public async Task InitializeAsync(JsonObject? initializationOptions = null)
    {
        InitializeResult = await RequestAsync("initialize", new JsonObject { ["processId"] = Environment.ProcessId, ["clientInfo"] = new JsonObject { ["name"] = "e2e" }, ["initializationOptions"] = initializationOptions });
        await NotifyAsync("initialized", new JsonObject());
    }

    public async Task<JsonElement> RequestAsync(string method, JsonNode? parameters, TimeSpan? timeout = null)
    {
        var (_, response) = await BeginAsync(method, parameters, timeout);
        return await response;
    }

    /// <summary>Sends a request and returns its id (for <c>$/cancelRequest</c>) and its pending result.</summary>
    public async Task<(string Id, Task<JsonElement> Result)> BeginAsync(string method, JsonNode? parameters, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method };
        if (parameters is not null)
        {
            message["params"] = parameters;
        }

        await SendRawAsync(Encoding.UTF8.GetBytes(message.ToJsonString()));
        return (id, ResultAsync(tcs.Task, timeout));
    }

    private static async Task<JsonElement> ResultAsync(Task<JsonElement> pending, TimeSpan? timeout)
    {
        var response = await pending.WaitAsync(timeout ?? DefaultTimeout);
        if (response.TryGetProperty("error", out var error))
        {
            throw new RpcErrorException(error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString() ?? string.Empty, error.TryGetProperty("data", out var d) ? d : null);
        }

        return response.GetProperty("result");
    }

    public Task NotifyAsync(string method, JsonNode? parameters)
    {
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method };
        if (parameters is not null)
        {
            message["params"] = parameters;
        }

        return SendRawAsync(Encoding.UTF8.GetBytes(message.ToJsonString()));
    }

    /// <summary>Sends one framed body exactly as given (for bad-input tests).</summary>
    public async Task SendRawAsync(byte[] body)
    {
        await SendBytesAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body]);
    }

    public async Task SendBytesAsync(byte[] bytes)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _output.WriteAsync(bytes);
            await _output.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Waits for the next unanswered response whose id is null (errors about unreadable messages).</summary>
    public Task<JsonElement> WaitForNullIdErrorAsync(TimeSpan? timeout = null) =>
        WaitForNotificationAsync(m => m.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Null, timeout);

    /// <summary>Every notification received so far.</summary>
    public List<JsonElement> Notifications
    {
        get
        {
            lock (_lock)
            {
                return [.. _notifications];
            }
        }
    }

    /// <summary>The session/event payloads of one attachment, in arrival order.</summary>
    public List<JsonElement> Events(string attachId) =>
        Notifications.Where(n => n.TryGetProperty("method", out var m) && m.GetString() == "session/event" && n.GetProperty("params").GetProperty("attachId").GetString() == attachId)
            .Select(n => n.GetProperty("params").GetProperty("event")).ToList();

    public async Task<JsonElement> WaitForNotificationAsync(Func<JsonElement, bool> predicate, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var checkedCount = 0;
        while (true)
        {
            Task next;
            lock (_lock)
            {
                for (; checkedCount < _notifications.Count; checkedCount++)
                {
                    if (predicate(_notifications[checkedCount]))
                    {
                        return _notifications[checkedCount];
                    }
                }

                next = _notified.Task;
            }

            await next.WaitAsync(cts.Token);
        }
    }

    /// <summary>Waits until the events of <paramref name="attachId"/> satisfy <paramref name="done"/>.</summary>
    public async Task<List<JsonElement>> WaitForEventsAsync(string attachId, Func<List<JsonElement>, bool> done, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            Task next;
            lock (_lock)
            {
                next = _notified.Task;
            }

            var events = Events(attachId);
            if (done(events))
            {
                return events;
            }

            await next.WaitAsync(cts.Token);
        }
    }

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await _input.ReadAsync(chunk);
                if (n == 0)
                {
                    return;
                }

                buffer.Write(chunk, 0, n);
                while (TryTakeFrame(buffer, out var body))
                {
                    Dispatch(JsonDocument.Parse(body).RootElement.Clone());
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
        finally
        {
            foreach (var p in _pending.Values)
            {
                p.TrySetException(new IOException("the connection closed"));
            }
        }
    }

    private void Dispatch(JsonElement message)
    {
        if (message.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && _pending.TryRemove(id.GetString()!, out var tcs))
        {
            tcs.TrySetResult(message);
            return;
        }

        OnNotification?.Invoke(message);
        TaskCompletionSource done;
        lock (_lock)
        {
            _notifications.Add(message);
            done = _notified;
            _notified = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }

    private static bool TryTakeFrame(MemoryStream buffer, out byte[] body)
    {
        body = [];
        var data = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        var end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return false;
        }

        var header = Encoding.ASCII.GetString(data[..end]);
        var length = int.Parse(header.Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        if (data.Length < end + 4 + length)
        {
            return false;
        }

        body = data.Slice(end + 4, length).ToArray();
        var rest = data[(end + 4 + length)..].ToArray();
        buffer.SetLength(0);
        buffer.Write(rest);
        return true;
    }
}
