using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;

namespace AgentSidecar.Faults.Tests;

/// <summary>
/// A framed client that keeps nothing it is not asked to keep: responses to its own requests go to
/// their callers, everything else (notifications, responses to raw frames) to callbacks on the
/// reader. For floods and fuzzing, where <see cref="RpcClient"/>'s list of every message would grow.
/// </summary>
internal sealed class LeanClient : IDisposable
{
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
    private int _nextId;

    public LeanClient(Stream input, Stream output)
    {
        _input = input;
        _output = output;
        Reader = Task.Run(ReadLoopAsync);
    }

    public Task Reader { get; }

    /// <summary>Every message that is not the answer to <see cref="RequestAsync"/>, on the reader thread.</summary>
    public Action<JsonElement>? OnMessage { get; set; }

    public long BytesRead { get; private set; }

    public static async Task<LeanClient> ConnectAsync(string socketPath, bool initialize = true)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        var stream = new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        var client = new LeanClient(stream, stream);
        if (initialize)
        {
            await client.RequestAsync("initialize", new JsonObject { ["processId"] = Environment.ProcessId });
            await client.NotifyAsync("initialized", new JsonObject());
        }

        return client;
    }

    public async Task<JsonElement> RequestAsync(string method, JsonNode? parameters, TimeSpan? timeout = null)
    {
        var id = "c" + Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method };
        if (parameters is not null)
        {
            message["params"] = parameters;
        }

        await SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()));
        var response = await tcs.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        if (response.TryGetProperty("error", out var error))
        {
            throw new RpcErrorException(error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString() ?? string.Empty, error.TryGetProperty("data", out var d) ? d : null);
        }

        return response.GetProperty("result");
    }

    public Task NotifyAsync(string method, JsonNode? parameters)
    {
        var message = new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = parameters };
        return SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()));
    }

    /// <summary>One well-framed body, whatever it contains.</summary>
    public Task SendAsync(byte[] body)
    {
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        var frame = new byte[header.Length + body.Length];
        header.CopyTo(frame, 0);
        body.CopyTo(frame, header.Length);
        return SendBytesAsync(frame);
    }

    public async Task SendBytesAsync(ReadOnlyMemory<byte> bytes)
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

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var start = 0;
        var chunk = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var n = await _input.ReadAsync(chunk);
                if (n == 0)
                {
                    return;
                }

                BytesRead += n;
                buffer.Write(chunk.AsSpan(0, n));
                while (TryTakeFrame(buffer.WrittenSpan[start..], out var consumed, out var bodyStart, out var bodyLength))
                {
                    var body = buffer.WrittenMemory.Slice(start + bodyStart, bodyLength);
                    using (var doc = JsonDocument.Parse(body))
                    {
                        Dispatch(doc.RootElement);
                    }

                    start += consumed;
                }

                if (start > 0 && start == buffer.WrittenCount)
                {
                    buffer.ResetWrittenCount();
                    start = 0;
                }
                else if (start > (1 << 20))
                {
                    var rest = buffer.WrittenSpan[start..].ToArray();
                    buffer.ResetWrittenCount();
                    buffer.Write(rest);
                    start = 0;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
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
        if (message.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { } s && _pending.TryRemove(s, out var tcs))
        {
            tcs.TrySetResult(message.Clone());
            return;
        }

        OnMessage?.Invoke(message);
    }

    private static bool TryTakeFrame(ReadOnlySpan<byte> data, out int consumed, out int bodyStart, out int bodyLength)
    {
        consumed = bodyStart = bodyLength = 0;
        var end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return false;
        }

        var header = Encoding.ASCII.GetString(data[..end]);
        var line = header.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        bodyLength = int.Parse(line["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
        bodyStart = end + 4;
        if (data.Length < bodyStart + bodyLength)
        {
            return false;
        }

        consumed = bodyStart + bodyLength;
        return true;
    }
}
