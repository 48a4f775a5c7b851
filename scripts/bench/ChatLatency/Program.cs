using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests;
using AgentSidecar.Tests.Fakes;

// Chat overhead against the real Codex TUI (issue: agents and chat, §6). For each of N turns:
//   model  = the fake server's last answer byte → the sidecar's client sees Codex's own done mark
//            (ESC]7501;state=done) in a pty event: Codex's time plus the sidecar's output path;
//   sidecar = that done mark → the chat/send result: the sidecar's turn logic (transcript read,
//            events committed, response written);
//   total  = last byte → chat/send result. Goal: total under 50 ms.
var turns = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
var bins = await AgentInstall.GetAsync();
await using var server = await FakeCodexServer.StartAsync();
var root = Path.Combine(AppContext.BaseDirectory, "bench-run-" + Environment.ProcessId);
var ws = Path.Combine(root, "ws");
Directory.CreateDirectory(ws);
var home = CodexHome.Create(Path.Combine(root, "codex-home"), server.BaseUrl, ws);
var sidecarDir = Directory.CreateTempSubdirectory("as-bench-").FullName;
var env = new Dictionary<string, string>(home.Environment) { ["HOME"] = Path.Combine(root, "home") };
var options = new JsonObject { ["providers"] = new JsonObject { ["codex"] = new JsonObject { ["command"] = bins.CodexBin } } };
await using var sidecar = await SidecarProcess.StartAsync(sidecarDir, home: env["HOME"], initializationOptions: options, environment: env);
var c = sidecar.Client;
var session = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "codex" }, TimeSpan.FromSeconds(60));
var sid = session.GetProperty("id").GetString()!;
var doneMarks = new List<long>();
c.OnNotification = n =>
{
    if (n.TryGetProperty("params", out var p) && p.TryGetProperty("event", out var e) && e.GetProperty("type").GetString() == "output"
        && e.GetProperty("data").GetProperty("data").GetString()!.Contains("7501;state=done", StringComparison.Ordinal))
    {
        lock (doneMarks)
        {
            doneMarks.Add(Stopwatch.GetTimestamp());
        }
    }
};
await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("pty") });

var model = new List<double>();
var overhead = new List<double>();
var total = new List<double>();
Console.Error.WriteLine($"running {turns} turns against Codex ({bins.CodexBin})...");
for (var i = 0; i < turns + 3; i++)
{
    var answer = server.NextAnswerSent;
    var result = await c.RequestAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"turn {i}" }, TimeSpan.FromSeconds(60));
    var end = Stopwatch.GetTimestamp();
    if (result.GetProperty("status").GetString() != "completed" || result.GetProperty("text").GetString() != $"PONG:turn {i}")
    {
        throw new InvalidOperationException($"turn {i}: {result.GetRawText()}");
    }

    if (i < 3)
    {
        continue; // warm-up
    }

    var served = await answer;
    var last = served.LastByteTimestamp;

    // This turn's done mark: the first one seen after the model received this turn's request.
    await Task.Delay(200);
    long done;
    lock (doneMarks)
    {
        done = doneMarks.FirstOrDefault(t => t >= served.StartTimestamp);
    }

    total.Add(Stopwatch.GetElapsedTime(last, end).TotalMilliseconds);
    if (done != 0)
    {
        model.Add(Stopwatch.GetElapsedTime(last, done).TotalMilliseconds);
        overhead.Add(Stopwatch.GetElapsedTime(done, end).TotalMilliseconds);
    }

    Console.Error.Write('.');
}

Console.Error.WriteLine();
static double Pct(List<double> xs, double p)
{
    var s = xs.Order().ToList();
    return s.Count == 0 ? double.NaN : s[(int)Math.Min(s.Count - 1, Math.Ceiling(p * s.Count) - 1)];
}

var report = new JsonObject
{
    ["benchmark"] = "chat-overhead-codex",
    ["turns"] = turns,
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
    ["lastByteToDoneMarkMs"] = new JsonObject { ["p50"] = Pct(model, 0.5), ["p99"] = Pct(model, 0.99) },
    ["doneMarkToResultMs"] = new JsonObject { ["p50"] = Pct(overhead, 0.5), ["p99"] = Pct(overhead, 0.99) },
    ["lastByteToResultMs"] = new JsonObject { ["p50"] = Pct(total, 0.5), ["p99"] = Pct(total, 0.99) },
    ["sidecarShareOfTotalP50"] = Pct(overhead, 0.5) / Pct(total, 0.5),
};
Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
Directory.Delete(root, recursive: true);
