using System.Text.Json;

namespace AgentSidecar.Rpc.Tests;

public sealed class DispatchTests
{
    [Fact(Timeout = 10000)]
    public async Task Request_BeforeInitialize_Gets32002()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"test/echo","params":{"sessionId":"s"}}""");
        var err = await h.ReadResponseAsync(1);
        Assert.Equal(-32002, err.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact(Timeout = 10000)]
    public async Task UnknownMethod_Gets32601()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"no/such"}""");
        var err = await h.ReadResponseAsync(1);
        Assert.Equal(-32601, err.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("no/such", err.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory(Timeout = 10000)]
    [InlineData("""{}""", "sessionId")]
    [InlineData("""{"sessionId":""}""", "sessionId")]
    [InlineData("""{"sessionId":42}""", "sessionId")]
    [InlineData("""[1]""", "params")]
    public async Task WrongOrMissingParams_Get32602_NamingTheField(string paramsJson, string field)
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync($$$"""{"jsonrpc":"2.0","id":1,"method":"test/echo","params":{{{paramsJson}}}}""");
        var err = (await h.ReadResponseAsync(1)).GetProperty("error");
        Assert.Equal(-32602, err.GetProperty("code").GetInt32());
        Assert.Equal(field, err.GetProperty("data").GetProperty("field").GetString());
    }

    [Theory(Timeout = 10000)]
    [InlineData("""{"workerId":"w","cols":"wide","rows":10}""", "cols")]
    [InlineData("""{"workerId":"w","cols":0,"rows":10}""", "cols")]
    [InlineData("""{"workerId":"w","cols":80}""", "rows")]
    [InlineData("""{"workerId":"w","cols":80,"rows":1e400}""", "rows")]
    public async Task NumericParams_OutOfShape_Get32602_NamingTheField(string paramsJson, string field)
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync($$$"""{"jsonrpc":"2.0","id":1,"method":"test/resize","params":{{{paramsJson}}}}""");
        var err = (await h.ReadResponseAsync(1)).GetProperty("error");
        Assert.Equal(-32602, err.GetProperty("code").GetInt32());
        Assert.Equal(field, err.GetProperty("data").GetProperty("field").GetString());
    }

    [Fact(Timeout = 10000)]
    public async Task HandlerException_Gets32603_WithoutStackTrace()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"test/fail"}""");
        var err = (await h.ReadResponseAsync(1)).GetProperty("error");
        Assert.Equal(-32603, err.GetProperty("code").GetInt32());
        Assert.DoesNotContain(" at ", err.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 10000)]
    public async Task SlowRequest_DoesNotBlockTheNext()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync("""{"jsonrpc":"2.0","id":"slow","method":"test/slow"}""");
        await h.SendAsync("""{"jsonrpc":"2.0","id":"fast","method":"test/echo","params":{"sessionId":"f"}}""");
        var r = await h.ReadAsync();
        Assert.Equal("fast", r.GetProperty("id").GetString());
    }

    [Fact(Timeout = 10000)]
    public async Task CancelRequest_CancelsTheHandler_With32800()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync("""{"jsonrpc":"2.0","id":"slow","method":"test/slow"}""");
        await h.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"slow"}}""");
        var err = (await h.ReadResponseAsync("slow")).GetProperty("error");
        Assert.Equal(-32800, err.GetProperty("code").GetInt32());
    }

    [Fact(Timeout = 10000)]
    public async Task RequestsWithTheSameKey_RunInOrder_OthersConcurrently()
    {
        var target = new TestTarget();
        await using var h = new RpcHarness(target);
        await h.InitializeAsync();
        for (var i = 0; i < 15; i++)
        {
            await h.SendAsync($$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"test/ordered","params":{"workerId":"w{{{i % 2}}}","data":"{{{i}}}"}}""");
        }

        for (var i = 0; i < 15; i++)
        {
            await h.ReadAsync();
        }

        lock (target.Order)
        {
            foreach (var key in new[] { "w0", "w1" })
            {
                var seq = target.Order.Where(o => o.StartsWith(key + ":", StringComparison.Ordinal)).Select(o => int.Parse(o[3..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(seq.Order().ToList(), seq);
            }
        }
    }

    [Fact(Timeout = 10000)]
    public async Task AfterShutdown_OnlyExitIsAccepted()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        await h.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"shutdown"}""");
        var r = await h.ReadResponseAsync(1);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("result").ValueKind);
        await h.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"test/echo","params":{"sessionId":"s"}}""");
        var err = (await h.ReadResponseAsync(2)).GetProperty("error");
        Assert.Equal(-32600, err.GetProperty("code").GetInt32());
    }

    [Fact(Timeout = 10000)]
    public async Task ManyConcurrentResponses_AreWholeFramesNeverInterleaved()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        var payload = new string('p', 20000);
        for (var i = 0; i < 200; i++)
        {
            await h.SendAsync($$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"test/echo","params":{"sessionId":"{{{payload}}}{{{i}}}"}}""");
        }

        for (var i = 0; i < 200; i++)
        {
            var r = await h.ReadAsync();
            var id = r.GetProperty("id").GetInt32();
            Assert.Equal(payload + id, r.GetProperty("result").GetProperty("sessionId").GetString());
        }
    }

    [Fact(Timeout = 20000)]
    public async Task EveryAnsweredRequest_LeavesNothingBehind()
    {
        await using var h = new RpcHarness(new TestTarget());
        await h.InitializeAsync();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 300; i++)
        {
            var (id, body) = (i % 6) switch
            {
                0 => ($"{i}", $$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"test/echo","params":{"sessionId":"s{{{i}}}"}}"""),
                1 => ($"{i}", $$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"test/fail","params":{}}"""),
                2 => ($"{i}", $$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"test/resize","params":{"workerId":"w","cols":-1,"rows":1}}"""),
                3 => ($"\"x{i}\"", $$$"""{"jsonrpc":"2.0","id":"x{{{i}}}","method":"test/ordered","params":{"workerId":"w{{{i % 3}}}","data":"{{{i % 20}}}"}}"""),
                4 => ($"{i}", $$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"no/such","params":{}}"""),
                _ => (null, $$$"""{"jsonrpc":"2.0","method":"test/echo","params":{"sessionId":"n{{{i}}}"}}"""),
            };
            if (id is not null)
            {
                expected.Add(id);
            }

            await h.SendAsync(body);
        }

        await h.SendAsync("""{"jsonrpc":"2.0","id":"slow","method":"test/slow","params":{}}""");
        await h.SendAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"slow"}}""");
        expected.Add("\"slow\"");
        while (expected.Count > 0)
        {
            var m = await h.ReadAsync();
            if (m.TryGetProperty("id", out var id))
            {
                expected.Remove(id.GetRawText());
            }
        }

        // Each request's bookkeeping goes with its answer.
        Assert.Equal(0, h.Connection.InFlightCount);
    }
}
