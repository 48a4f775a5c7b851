using System.Text;
using System.Text.Json;

namespace AgentSidecar.Rpc.Tests;

public sealed class FramingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 10000)]
    public async Task Frame_SplitAcrossWrites_IsReassembled()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        var frame = RpcHarness.Frame("""{"jsonrpc":"2.0","id":1,"method":"test/echo","params":{"sessionId":"s1"}}""");
        foreach (var b in frame)
        {
            await h.WriteAsync([b]);
        }

        var r = await h.ReadResponseAsync(1);
        Assert.Equal("s1", r.GetProperty("result").GetProperty("sessionId").GetString());
    }

    [Fact(Timeout = 10000)]
    public async Task Frames_MergedInOneWrite_AreAllAnswered()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        var merged = Enumerable.Range(1, 20)
            .SelectMany(i => RpcHarness.Frame($$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"test/echo","params":{"sessionId":"s{{{i}}}"}}"""))
            .ToArray();
        await h.WriteAsync(merged);
        var seen = new HashSet<int>();
        for (var i = 0; i < 20; i++)
        {
            var r = await h.ReadAsync();
            var id = r.GetProperty("id").GetInt32();
            Assert.Equal($"s{id}", r.GetProperty("result").GetProperty("sessionId").GetString());
            seen.Add(id);
        }

        Assert.Equal(20, seen.Count);
    }

    [Fact(Timeout = 10000)]
    public async Task ContentType_Header_IsTolerated()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        var body = """{"jsonrpc":"2.0","id":7,"method":"test/echo","params":{"sessionId":"x"}}""";
        await h.WriteAsync(Encoding.UTF8.GetBytes($"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{body}"));
        var r = await h.ReadResponseAsync(7);
        Assert.Equal("x", r.GetProperty("result").GetProperty("sessionId").GetString());
    }

    [Fact(Timeout = 10000)]
    public async Task Body_NotJson_GetsParseErrorWithNullId_AndConnectionGoesOn()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync("{not json");
        var err = await h.ReadAsync();
        Assert.Equal(JsonValueKind.Null, err.GetProperty("id").ValueKind);
        Assert.Equal(-32700, err.GetProperty("error").GetProperty("code").GetInt32());

        await h.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"test/echo","params":{"sessionId":"after"}}""");
        var r = await h.ReadResponseAsync(2);
        Assert.Equal("after", r.GetProperty("result").GetProperty("sessionId").GetString());
    }

    [Fact(Timeout = 10000)]
    public async Task Body_InvalidUtf8_GetsParseError()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        byte[] body = [(byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        await h.WriteAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body]);
        var err = await h.ReadAsync();
        Assert.Equal(-32700, err.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact(Timeout = 10000)]
    public async Task Body_DeeplyNested_GetsParseError()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync(new string('[', 500) + new string(']', 500));
        var err = await h.ReadAsync();
        Assert.Equal(-32700, err.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Theory(Timeout = 10000)]
    [InlineData("[1,2]")]
    [InlineData("42")]
    [InlineData("""{"jsonrpc":"1.0","id":1,"method":"test/echo"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":{"a":1},"method":"test/echo"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":7}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"test/echo","params":"x"}""")]
    public async Task Message_NotAValidRequest_GetsInvalidRequest(string json)
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync(json);
        var err = await h.ReadAsync();
        Assert.Equal(-32600, err.GetProperty("error").GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(err.GetProperty("error").GetProperty("message").GetString()));
    }

    [Fact(Timeout = 10000)]
    public async Task Message_OverTheLimit_Gets1007_IsSkipped_AndConnectionGoesOn()
    {
        await using var h = new RpcHarness(new TestTarget(), maxMessageBytes: 1000);
        await h.InitializeAsync();
        var big = $$$"""{"jsonrpc":"2.0","id":1,"method":"test/echo","params":{"sessionId":"{{{new string('x', 5000)}}}"}}""";
        await h.SendAsync(big);
        var err = await h.ReadAsync();
        Assert.Equal(1007, err.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("1000", err.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        await h.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"test/echo","params":{"sessionId":"ok"}}""");
        var r = await h.ReadResponseAsync(2);
        Assert.Equal("ok", r.GetProperty("result").GetProperty("sessionId").GetString());
    }

    [Theory(Timeout = 10000)]
    [InlineData("Content-Length: abc\r\n\r\n{}")]
    [InlineData("Content-Length: -5\r\n\r\n{}")]
    [InlineData("Content-Type: text/plain\r\n\r\n{}")]
    [InlineData("garbage without colon\r\n\r\n")]
    public async Task Header_Broken_EndsTheConnectionCleanly(string raw)
    {
        var h = new RpcHarness(new TestTarget());
        await h.WriteAsync(Encoding.ASCII.GetBytes(raw));
        await h.Run.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.NotNull(h.Connection.CloseReason);
        await h.DisposeAsync();
    }

    [Fact(Timeout = 10000)]
    public async Task Header_WithoutEnd_PastTheHeaderLimit_EndsTheConnection()
    {
        var h = new RpcHarness(new TestTarget());
        await h.WriteAsync(Encoding.ASCII.GetBytes("X-Filler: " + new string('a', HeaderDelimitedReader.MaxHeaderBytes + 10)));
        await h.Run.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Contains("headers", h.Connection.CloseReason, StringComparison.Ordinal);
        await h.DisposeAsync();
    }

    [Fact(Timeout = 10000)]
    public async Task Input_EndingMidBody_EndsTheConnection()
    {
        var h = new RpcHarness(new TestTarget());
        await h.WriteAsync(Encoding.ASCII.GetBytes("Content-Length: 100\r\n\r\n{\"jsonrpc\""));
        h.EndInput();
        await h.Run.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.NotNull(h.Connection.CloseReason);
        await h.DisposeAsync();
    }

    [Fact(Timeout = 10000)]
    public async Task Input_EndingBetweenMessages_IsACleanEnd()
    {
        var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        h.EndInput();
        await h.Run.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Null(h.Connection.CloseReason);
        await h.DisposeAsync();
    }
}
