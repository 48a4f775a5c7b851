using System.Globalization;
using System.Text;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Terminal.Tests.Pty;

/// <summary>
/// Many PTYs read by a few shared loops: every byte arrives before the exit, the threads do not
/// grow with the PTYs, and one PTY's listener failing does not stop the others; many stopped at
/// once (their signals share /proc scans) leave nothing of their terminal sessions behind.
/// </summary>
public sealed class PtyReadLoopTests
{
    /// <summary>A thread per PTY would pass this with 200 PTYs alone; the loops stay far below.</summary>
    private const int MaxThreads = 100;

    [Fact(Timeout = 120_000)]
    public async Task ManyLivePtys_ShareAFewThreads_AndEachDeliversItsOutputThenItsExit()
    {
        const int Ptys = 200;
        const int Bytes = 10_000;
        var recorders = new List<Recorder>();
        var processes = new List<PtyProcess>();
        try
        {
            for (int i = 0; i < Ptys; i++)
            {
                // Waits for a line, so all of them are live at once; then prints and exits with a code of its own.
                var recorder = new Recorder('x');
                recorders.Add(recorder);
                processes.Add(Start(recorder, $"read line; head -c {Bytes} /dev/zero | tr '\\000' x; exit {i % 100}"));
            }

            int threads = ThreadCount();
            Assert.True(threads < MaxThreads, $"{threads} threads with {Ptys} live PTYs");

            foreach (var process in processes)
            {
                Assert.True(process.Write("go\n"u8.ToArray()));
            }

            var exits = await Task.WhenAll(processes.Select(p => p.Exited));
            for (int i = 0; i < Ptys; i++)
            {
                Assert.Equal(i % 100, exits[i].ExitCode);
                Assert.Equal(Bytes, recorders[i].CountAtExit);
                Assert.Equal(1, recorders[i].Exits);
                Assert.Equal(0, recorders[i].Failures);
            }
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task ManyChildrenThatPrintAndExitAtOnce_DeliverEveryByteBeforeTheirExit()
    {
        const int Runs = 1_000;
        const int Concurrent = 50;
        const int Bytes = 10_000;
        for (int batch = 0; batch < Runs / Concurrent; batch++)
        {
            var recorders = Enumerable.Range(0, Concurrent).Select(_ => new Recorder('0')).ToList();
            var processes = recorders.Select(r => Start(r, $"printf '%0{Bytes}d' 0")).ToList();
            var exits = await Task.WhenAll(processes.Select(p => p.Exited));
            Assert.All(exits, exit => Assert.Equal(0, exit.ExitCode));
            Assert.All(recorders, r => Assert.Equal(Bytes, r.CountAtExit));
            processes.ForEach(p => p.Dispose());
        }
    }

    /// <summary>
    /// The CI failure's condition made certain (one child of 1,000 once had 2,048 of 10,000 bytes at
    /// its exit, with both cores saturated): the reader comes late, after the child has written
    /// everything, closed its terminal and exited. Every loop is held in a listener until each child
    /// is a zombie nobody has reaped; then the bytes must all still come, before the exit.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task ChildrenThatExitWhileEveryLoopIsBusy_DeliverEveryByteOnceTheLoopsReadAgain()
    {
        const int Children = 24;
        using var gate = new ManualResetEventSlim();
        var blockers = new List<(GateRecorder Recorder, PtyProcess Process)>();
        var processes = new List<PtyProcess>();
        try
        {
            // PTYs are dealt to the loops in turn: started back to back, one blocker lands on each loop.
            for (int i = 0; i < PtyReadLoop.Count; i++)
            {
                var blocker = new GateRecorder(gate);
                blockers.Add((blocker, Start(blocker, "printf b; read line")));
            }

            await Task.WhenAll(blockers.Select(b => b.Recorder.Holding.Task)).WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

            // Around the line discipline's 4 KiB buffer and the kernel's 2 KiB write chunks, up to 10,000 bytes
            // (the most a child can leave unread and still exit: ~16 KiB fit in a PTY before its writes block).
            int[] sizes = [.. Enumerable.Range(0, Children).Select(i => i switch { 0 => 1, 1 => 2_048, 2 => 2_049, 3 => 4_095, 4 => 4_096, _ => 10_000 - i })];
            var recorders = sizes.Select(_ => new Recorder('0')).ToList();
            processes.AddRange(sizes.Select((size, i) => Start(recorders[i], $"printf '%0{size}d' 0")));

            // Exited and not reaped (the loops that would reap them are held): their output is all unread.
            // Polled through /proc (a poll interval, not a pause: the condition is the zombie state);
            // the test's timeout bounds it.
            foreach (var process in processes)
            {
                while (ProcessInfo.IsAlive(process.Pid, process.StartTime))
                {
                    await Task.Delay(10, TestContext.Current.CancellationToken);
                }

                Assert.False(process.HasExited);
            }

            gate.Set();
            var exits = await Task.WhenAll(processes.Select(p => p.Exited));
            Assert.All(exits, exit => Assert.Equal(0, exit.ExitCode));
            Assert.Equal(sizes.Select(s => (long)s), recorders.Select(r => r.CountAtExit));
            Assert.All(recorders, r => Assert.Equal(0, r.Failures));
        }
        finally
        {
            gate.Set();
            blockers.ForEach(b => b.Process.Dispose());
            processes.ForEach(p => p.Dispose());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ListenerThatThrows_IsReported_AndThePtysBesideItStillDeliverEverything()
    {
        // Enough of each that every loop has both kinds (PTYs are dealt to the loops in turn).
        const int Pairs = 8;
        var failing = new List<(Recorder Recorder, PtyProcess Process)>();
        var healthy = new List<(Recorder Recorder, PtyProcess Process)>();
        try
        {
            for (int i = 0; i < Pairs; i++)
            {
                var bad = new Recorder('y') { ThrowOnOutput = true, ThrowOnExit = true };
                failing.Add((bad, Start(bad, "head -c 100000 /dev/zero | tr '\\000' y")));
                var good = new Recorder('z');
                healthy.Add((good, Start(good, "head -c 100000 /dev/zero | tr '\\000' z; exit 4")));
            }

            await Task.WhenAll(failing.Concat(healthy).Select(p => p.Process.Exited));
            Assert.All(healthy, p => Assert.Equal(100_000, p.Recorder.CountAtExit));
            Assert.All(healthy, p => Assert.Equal(4, p.Process.Exited.Result.ExitCode));
            Assert.All(failing, p => Assert.True(p.Recorder.Failures >= 2, $"{p.Recorder.Failures} failures reported"));
        }
        finally
        {
            failing.Concat(healthy).ToList().ForEach(p => p.Process.Dispose());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ChildThatClosesItsTerminalAndRunsOn_IsReapedWhenItExits()
    {
        string fifo = Path.Combine(Path.GetTempPath(), $"pty-loop-{Guid.NewGuid():N}");
        Assert.Equal(0, MkFifo(fifo));
        var recorder = new Recorder('k');
        using var process = Start(recorder, $"printf kkk; exec </dev/null >/dev/null 2>&1; read line < '{fifo}'; exit 5");
        try
        {
            // Opening the fifo waits until the child opens it: by then its terminal is closed, so
            // the output has ended while the child still runs.
            await using (var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write))
            {
                Assert.False(process.HasExited);
                await writer.WriteAsync("done\n"u8.ToArray(), TestContext.Current.CancellationToken);
            }

            var exit = await process.Exited;
            Assert.Equal(5, exit.ExitCode);
            Assert.Equal(3, recorder.CountAtExit);
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task ManyStoppedAtOnce_LeaveNoProcessOfTheirTerminalSessions()
    {
        const int Ptys = 40;
        var processes = new List<PtyProcess>();
        try
        {
            // With job control the background sleep has a process group of its own: only the
            // session-wide signal (members found in /proc) reaches it.
            for (int i = 0; i < Ptys; i++)
            {
                processes.Add(Start(new Recorder('r'), "set -m; sleep 1000 & echo ready; wait", "/bin/bash"));
            }

            foreach (var process in processes)
            {
                while (ProcessInfo.SessionMembers(process.Pid).Count < 2)
                {
                    await Task.Delay(10, TestContext.Current.CancellationToken);
                }
            }

            // Bounded, so that on failure the cleanup below still kills what was left.
            await Task.WhenAll(processes.Select(p => p.StopAsync(TimeSpan.FromSeconds(5)))).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            foreach (var process in processes)
            {
                Assert.Empty(ProcessInfo.SessionMembers(process.Pid));
            }
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }
    }

    private static PtyProcess Start(IPtyListener listener, string script, string shell = "/bin/sh") => PtyProcess.Start(
        new PtyStartInfo
        {
            Command = shell,
            Args = ["-c", script],
            WorkingDirectory = "/",
            Environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["TERM"] = "xterm-256color" },
        },
        listener);

    private static int ThreadCount()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal));
        return int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo(string path, uint mode = 0x180);

    /// <summary>Holds its loop's thread in the first output until the gate opens (a stand-in for a loop busy elsewhere).</summary>
    private sealed class GateRecorder(ManualResetEventSlim gate) : IPtyListener
    {
        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnOutput(ReadOnlySpan<byte> data)
        {
            Holding.TrySetResult();
            gate.Wait();
        }

        public void OnExit(PtyExit exit)
        {
        }

        public void OnListenerFailed(Exception exception)
        {
        }
    }

    /// <summary>Counts one character of the output and what happened at the exit.</summary>
    private sealed class Recorder(char counted) : IPtyListener
    {
        private readonly Lock _lock = new();
        private long _count;

        public bool ThrowOnOutput { get; init; }

        public bool ThrowOnExit { get; init; }

        /// <summary>The count when the exit was reported (-1 before).</summary>
        public long CountAtExit { get; private set; } = -1;

        public int Exits { get; private set; }

        public int Failures { get; private set; }

        public void OnOutput(ReadOnlySpan<byte> data)
        {
            lock (_lock)
            {
                Assert.Equal(0, Exits);
                _count += data.Count((byte)counted);
            }

            if (ThrowOnOutput)
            {
                throw new InvalidOperationException("listener failure (test)");
            }
        }

        public void OnExit(PtyExit exit)
        {
            lock (_lock)
            {
                Exits++;
                CountAtExit = _count;
            }

            if (ThrowOnExit)
            {
                throw new InvalidOperationException("listener failure at exit (test)");
            }
        }

        public void OnListenerFailed(Exception exception)
        {
            lock (_lock)
            {
                Failures++;
            }
        }
    }
}
