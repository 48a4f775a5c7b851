using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.EndToEnd.Tests;
using AgentSidecar.Tests;
using AgentSidecar.Tests.Fakes;

// Agentic turns against the real Codex TUI with the approvals users have on (issue: agentic turns,
// "Speed"). For each of N turns the fake model asks for an escalated command, Codex shows its
// approval prompt, the benchmark approves it through chat/approve, and the fake streams a final
// answer. Measured with one monotonic clock in this process (which also hosts the fake server):
//   rawPrompt = the last pty/output event before the approval event reaches the client: the prompt's
//               last bytes on the raw PTY path (Codex's draw + the sidecar's output path);
//   approval  = that event → the chat/approval event (pending) at the same client: the sidecar's
//               detection on top of the raw path. Goal: prompt's last byte → approval event p99 < 100 ms;
//   firstDelta = the fake's first byte of the final answer → the turn's first chat/delta at the
//               client. Goal: p50 < 150 ms.
var turns = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
var bins = await AgentInstall.GetAsync();
await using var server = await FakeCodexServer.StartAsync();
var root = Path.Combine(AppContext.BaseDirectory, "bench-run-" + Environment.ProcessId);
var ws = Path.Combine(root, "ws");
var outside = Path.Combine(root, "outside");
Directory.CreateDirectory(ws);
Directory.CreateDirectory(outside);
var home = CodexHome.Create(Path.Combine(root, "codex-home"), server.BaseUrl, ws, CodexHomeOptions.UserDefaults);
var sidecarDir = Directory.CreateTempSubdirectory("as-bench-").FullName;
var env = new Dictionary<string, string>(home.Environment) { ["HOME"] = Path.Combine(root, "home") };
var options = new JsonObject { ["providers"] = new JsonObject { ["codex"] = new JsonObject { ["command"] = bins.CodexBin } } };
await using var sidecar = await SidecarProcess.StartAsync(sidecarDir, home: env["HOME"], initializationOptions: options, environment: env);
var c = sidecar.Client;
var session = await c.RequestAsync("session/start", new JsonObject { ["workspace"] = ws, ["provider"] = "codex" }, TimeSpan.FromSeconds(60));
var sid = session.GetProperty("id").GetString()!;

var promptSeen = new List<long>();
var approvals = new List<(long At, string Id)>();
var deltas = new List<(long At, string TurnId)>();
c.OnNotification = n =>
{
    if (!n.TryGetProperty("params", out var p) || !p.TryGetProperty("event", out var e))
    {
        return;
    }

    var now = Stopwatch.GetTimestamp();
    var type = e.GetProperty("type").GetString();
    lock (promptSeen)
    {
        if (type == "output")
        {
            // Codex draws words with cursor moves: the prompt's text is not in the raw bytes as such.
            // Its last chunk is the last output before the approval event (which follows from it).
            promptSeen.Add(now);
        }
        else if (type == "approval" && e.GetProperty("data").GetProperty("status").GetString() == "pending")
        {
            approvals.Add((now, e.GetProperty("data").GetProperty("approvalId").GetString()!));
        }
        else if (type == "delta")
        {
            deltas.Add((now, e.GetProperty("data").GetProperty("turnId").GetString()!));
        }
    }
};
await c.RequestAsync("session/attach", new JsonObject { ["sessionId"] = sid, ["channels"] = new JsonArray("pty", "chat") });

var detection = new List<double>();
var firstDelta = new List<double>();
Console.Error.WriteLine($"running {turns} approval turns against Codex ({bins.CodexBin})...");
for (var i = 0; i < turns + 2; i++)
{
    server.EnqueueReply(FakeReply.CallTools(CodexTools.Exec($"echo {i} > {Path.Combine(outside, $"{i}.txt")}", escalated: true)));
    server.EnqueueReply(FakeReply.Slow($"The command of turn {i} ran, and here is a longer answer that streams in pieces.", TimeSpan.FromMilliseconds(400)));
    int before;
    lock (promptSeen)
    {
        before = approvals.Count;
    }

    var (_, turn) = await c.BeginAsync("chat/send", new JsonObject { ["sessionId"] = sid, ["text"] = $"turn {i}" }, TimeSpan.FromSeconds(60));
    (long At, string Id) approval;
    while (true)
    {
        lock (promptSeen)
        {
            if (approvals.Count > before)
            {
                approval = approvals[before];
                break;
            }
        }

        await Task.Delay(5);
    }

    // The prompt's last output, received before the approval event (the event follows the committed output).
    long prompt;
    lock (promptSeen)
    {
        prompt = promptSeen.LastOrDefault(t => t <= approval.At);
    }

    await c.RequestAsync("chat/approve", new JsonObject { ["sessionId"] = sid, ["approvalId"] = approval.Id, ["optionId"] = "yes" }, TimeSpan.FromSeconds(30));
    var answer = server.NextAnswerSent;
    var result = await turn;
    if (result.GetProperty("status").GetString() != "completed")
    {
        throw new InvalidOperationException($"turn {i}: {result.GetRawText()}");
    }

    var served = await answer;
    var turnId = result.GetProperty("turnId").GetString()!;
    long delta;
    lock (promptSeen)
    {
        delta = deltas.FirstOrDefault(d => d.TurnId == turnId && d.At >= served.FirstByteTimestamp).At;
    }

    if (i < 2)
    {
        continue; // warm-up
    }

    if (prompt != 0)
    {
        detection.Add(Stopwatch.GetElapsedTime(prompt, approval.At).TotalMilliseconds);
    }

    if (delta != 0)
    {
        firstDelta.Add(Stopwatch.GetElapsedTime(served.FirstByteTimestamp, delta).TotalMilliseconds);
    }

    Console.Error.Write('.');
}

Console.Error.WriteLine();
static double? Pct(List<double> xs, double p)
{
    var s = xs.Order().ToList();
    return s.Count == 0 ? null : Math.Round(s[(int)Math.Min(s.Count - 1, Math.Ceiling(p * s.Count) - 1)], 2);
}

var report = new JsonObject
{
    ["benchmark"] = "agentic-latency-codex",
    ["turns"] = turns,
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
    ["promptEventToApprovalEventMs"] = new JsonObject { ["n"] = detection.Count, ["p50"] = Pct(detection, 0.5), ["p99"] = Pct(detection, 0.99), ["max"] = detection.Count == 0 ? null : Math.Round(detection.Max(), 2) },
    ["firstAnswerByteToFirstDeltaMs"] = new JsonObject { ["n"] = firstDelta.Count, ["p50"] = Pct(firstDelta, 0.5), ["p99"] = Pct(firstDelta, 0.99) },
};
Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
Directory.Delete(root, recursive: true);
