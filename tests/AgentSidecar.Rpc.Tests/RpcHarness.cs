using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using AgentSidecar.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using StreamJsonRpc;

namespace AgentSidecar.Rpc.Tests;

/// <summary>A connection over in-memory pipes: tests write raw bytes in and read whole frames out.</summary>
internal sealed class RpcHarness : IAsyncDisposable
{
    private readonly Pipe _in = new(new PipeOptions(pauseWriterThreshold: 0));
    private readonly Pipe _out = new(new PipeOptions(pauseWriterThreshold: 0));

    public RpcHarness(object target, long maxMessageBytes = RpcOptions.DefaultMaxMessageBytes)
    {
        var methods = new MethodTable(ProtocolJsonContext.Default.Options, [target.GetType()]);
        Connection = new JsonRpcConnection(_in.Reader.AsStream(), _out.Writer.AsStream(), methods, new OrderedScheduler(), new RpcOptions { MaxMessageBytes = maxMessageBytes }, NullLogger.Instance, "test");
        Connection.AddTarget(target);
        Run = Connection.RunAsync();
    }

    public JsonRpcConnection Connection { get; }

    public Task Run { get; }

    public static byte[] Frame(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return [.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body];
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await _in.Writer.WriteAsync(bytes);
    }

    public Task SendAsync(string json) => WriteAsync(Frame(json));

    public async Task InitializeAsync()
    {
        await SendAsync("""{"jsonrpc":"2.0","id":"init","method":"initialize","params":{}}""");
        var r = await ReadAsync();
        Assert.Equal("init", r.GetProperty("id").GetString());
    }

    public void EndInput() => _in.Writer.Complete();

    /// <summary>Reads the next frame the connection wrote.</summary>
    public async Task<JsonElement> ReadAsync(int timeoutMs = 10000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        while (true)
        {
            var result = await _out.Reader.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            if (TryParse(ref buffer, out var body))
            {
                _out.Reader.AdvanceTo(buffer.Start);
                return body;
            }

            _out.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new EndOfStreamException("the connection closed its output");
            }
        }
    }

    /// <summary>Reads frames until one has the given id (notifications and others are skipped).</summary>
    public async Task<JsonElement> ReadResponseAsync(object id)
    {
        var want = JsonSerializer.Serialize(id);
        while (true)
        {
            var m = await ReadAsync();
            if (m.TryGetProperty("id", out var got) && got.GetRawText() == want)
            {
                return m;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _in.Writer.Complete();
        await Task.WhenAny(Run, Task.Delay(5000));
        await Connection.DisposeAsync();
    }

    private static bool TryParse(ref ReadOnlySequence<byte> buffer, out JsonElement body)
    {
        body = default;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> header, "\r\n\r\n"u8))
        {
            return false;
        }

        var text = Encoding.ASCII.GetString(header.ToArray());
        var length = int.Parse(text["Content-Length: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        if (reader.Remaining < length)
        {
            return false;
        }

        var bytes = buffer.Slice(reader.Position, length);
        body = JsonDocument.Parse(bytes.ToArray()).RootElement.Clone();
        buffer = buffer.Slice(bytes.End);
        return true;
    }
}

/// <summary>Handlers for the tests, with protocol records as params.</summary>
internal sealed class TestTarget
{
    public List<string> Order { get; } = [];

    [JsonRpcMethod("initialize")]
    public Task<EmptyResult> InitializeAsync(EmptyParams p, CancellationToken ct)
    {
        RpcRequestContext.Current!.Connection.MarkInitialized();
        return Task.FromResult(EmptyResult.Instance);
    }

    [JsonRpcMethod("shutdown")]
    public Task ShutdownAsync(EmptyParams p, CancellationToken ct)
    {
        RpcRequestContext.Current!.Connection.MarkShutdownRequested();
        return Task.CompletedTask;
    }

    [JsonRpcMethod("test/echo")]
    public Task<SessionIdParams> EchoAsync(SessionIdParams p, CancellationToken ct) => Task.FromResult(p);

    [JsonRpcMethod("test/resize")]
    public Task<EmptyResult> ResizeAsync(WorkerResizeParams p, CancellationToken ct) => Task.FromResult(EmptyResult.Instance);

    [JsonRpcMethod("test/slow")]
    public async Task<EmptyResult> SlowAsync(EmptyParams p, CancellationToken ct)
    {
        await Task.Delay(Timeout.Infinite, ct);
        return EmptyResult.Instance;
    }

    [JsonRpcMethod("test/fail")]
    public Task<EmptyResult> FailAsync(EmptyParams p, CancellationToken ct) => throw new InvalidOperationException("boom");

    [JsonRpcMethod("test/ordered")]
    public async Task<EmptyResult> OrderedAsync(WorkerInputParams p, CancellationToken ct)
    {
        // Later requests sleep less: only the scheduler keeps them in order.
        var n = int.Parse(p.Data!, System.Globalization.CultureInfo.InvariantCulture);
        await Task.Delay(Math.Max(0, 20 - n), ct);
        lock (Order)
        {
            Order.Add($"{p.WorkerId}:{n}");
        }

        return EmptyResult.Instance;
    }
}
