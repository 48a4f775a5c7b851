using System.Collections.Concurrent;
using System.Text;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Terminal.Tests.Pty;

/// <summary>
/// By hand only (explicit): thousands of children that print and exit at once, to reproduce a lost
/// tail under load. Run with <c>-method '*PtyExitStressTests*' -explicit only</c>, with both cores
/// busy (<c>yes &gt; /dev/null &amp;</c> twice). PTY_STRESS_RUNS, PTY_STRESS_CONCURRENT and
/// PTY_STRESS_BYTES size it; every short child is written to PTY_STRESS_LOG (default /tmp).
/// </summary>
public sealed class PtyExitStressTests
{
    [Fact(Explicit = true, Timeout = 3_600_000)]
    public async Task ThousandsOfChildrenThatPrintAndExitAtOnce_LoseNoByte()
    {
        var runs = Setting("PTY_STRESS_RUNS", 5_000);
        var concurrent = Setting("PTY_STRESS_CONCURRENT", 50);
        var bytes = Setting("PTY_STRESS_BYTES", 10_000);
        var log = Environment.GetEnvironmentVariable("PTY_STRESS_LOG") ?? Path.Combine(Path.GetTempPath(), "pty-stress.log");
        var report = new StringBuilder();
        var shortChildren = 0;
        for (var batch = 0; batch < runs / concurrent; batch++)
        {
            var recorders = Enumerable.Range(0, concurrent).Select(_ => new ChunkRecorder()).ToList();
            var processes = recorders.Select(r => PtyProcess.Start(
                new PtyStartInfo
                {
                    Command = "/bin/sh",
                    Args = ["-c", $"printf '%0{bytes}d' 0"],
                    WorkingDirectory = "/",
                    Environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" },
                },
                r)).ToList();
            var exits = await Task.WhenAll(processes.Select(p => p.Exited));
            for (var i = 0; i < concurrent; i++)
            {
                var r = recorders[i];
                if (r.CountAtExit != bytes || exits[i].ExitCode != 0)
                {
                    shortChildren++;
                    report.AppendLine(
                        $"batch {batch} pid {processes[i].Pid} exit {exits[i].ExitCode}/{exits[i].Signal} got {r.CountAtExit} chunks [{string.Join(' ', r.Chunks)}]");
                }
            }

            processes.ForEach(p => p.Dispose());
        }

        report.AppendLine($"runs {runs} concurrent {concurrent} bytes {bytes} short {shortChildren}");
        await File.AppendAllTextAsync(log, report.ToString(), TestContext.Current.CancellationToken);
        Assert.True(shortChildren == 0, report.ToString());
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

    /// <summary>Every delivery's size, and the total when the exit came.</summary>
    private sealed class ChunkRecorder : IPtyListener
    {
        private long _count;

        public ConcurrentQueue<int> Chunks { get; } = new();

        public long CountAtExit { get; private set; } = -1;

        public void OnOutput(ReadOnlySpan<byte> data)
        {
            Chunks.Enqueue(data.Length);
            _count += data.Count((byte)'0');
        }

        public void OnExit(PtyExit exit) => CountAtExit = _count;

        public void OnListenerFailed(Exception exception)
        {
        }
    }
}
