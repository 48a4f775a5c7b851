using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

public sealed class OtlpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-otlp-").FullName;
    /// <summary>The data directory: a folder of its own in the test's folder (HOME sits beside it).</summary>
    private string DataDir => Path.Combine(_dir, "data");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact(Timeout = 60000)]
    public async Task OtlpExport_WhenConfigured_SendsSessionAndTurnMetricsToTheCollector()
    {
        // A minimal OTLP/HTTP collector on 127.0.0.1 that keeps the bodies it gets.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var bodies = new List<(string Path, string ContentType, byte[] Body)>();
        var got = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                try
                {
                    var ctx = await collector.GetContextAsync();
                    using var ms = new MemoryStream();
                    await ctx.Request.InputStream.CopyToAsync(ms, TestContext.Current.CancellationToken);
                    lock (bodies)
                    {
                        bodies.Add((ctx.Request.Url!.AbsolutePath, ctx.Request.ContentType ?? string.Empty, ms.ToArray()));
                        if (Encoding.UTF8.GetString(ms.ToArray()).Contains("agent_sidecar.turns", StringComparison.Ordinal))
                        {
                            got.TrySetResult();
                        }
                    }

                    ctx.Response.StatusCode = 200;
                    ctx.Response.Close();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        }, TestContext.Current.CancellationToken);

        var options = new JsonObject
        {
            ["providers"] = new JsonObject { ["fake"] = ChatTests.FakeProfile() },
            ["metrics"] = new JsonObject { ["otlp"] = new JsonObject { ["endpoint"] = $"http://127.0.0.1:{port}/", ["intervalSeconds"] = 0.5 } },
        };
        await using var sidecar = await SidecarProcess.StartAsync(DataDir, initializationOptions: options);
        var ws = Path.Combine(_dir, "ws");
        Directory.CreateDirectory(ws);
        var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "fake" });
        await sidecar.Client.RequestAsync("chat/send", new JsonObject { ["sessionId"] = s.GetProperty("id").GetString(), ["text"] = "count me" });

        await got.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        lock (bodies)
        {
            var metrics = bodies.Where(b => b.Path == "/v1/metrics").ToList();
            Assert.NotEmpty(metrics);
            Assert.All(metrics, b => Assert.Equal("application/x-protobuf", b.ContentType));
            var all = string.Concat(metrics.Select(b => Encoding.UTF8.GetString(b.Body)));
            Assert.Contains("agent_sidecar.sessions.started", all, StringComparison.Ordinal);
            Assert.Contains("agent_sidecar.turn.duration", all, StringComparison.Ordinal);
        }
    }
}
