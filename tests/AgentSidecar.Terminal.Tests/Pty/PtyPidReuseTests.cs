using System.Diagnostics;
using System.Globalization;
using AgentSidecar.Terminal.Pty;

namespace AgentSidecar.Terminal.Tests.Pty;

/// <summary>
/// A stop after the terminal's leader was reaped must not touch a new session that got its pid.
/// The pid is really reused: the kernel's next pid is set through /proc/sys/kernel/ns_last_pid (the
/// tests run as root, as CI does), and a new session leader is started on the old leader's pid. Not
/// beside the other tests: their children (a thousand at once) would take the pid first.
/// </summary>
[Collection(PidReuseCollection.Name)]
public sealed class PtyPidReuseTests
{
    [Fact(Timeout = 60000)]
    public async Task StopAfterTheLeaderWasReaped_LeavesANewSessionOnItsPidAlone()
    {
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var old = PtyProcess.Start(
            new PtyStartInfo { Command = "/bin/sh", Args = ["-c", "exit 0"], WorkingDirectory = "/", Environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" } },
            new ExitListener(exited));
        await old.Exited.WaitAsync(TestContext.Current.CancellationToken);

        using var stranger = StartOnPid(old.Pid);
        Assert.Equal(old.Pid, stranger.Id);
        try
        {
            await old.StopAsync(TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            // Observable: the stranger is still there, not killed (a kill is delivered before kill(2) returns).
            Assert.False(stranger.HasExited, "the new session on the reused pid was killed");
            Assert.NotNull(ProcessInfo.TryGetStartTime(stranger.Id));
        }
        finally
        {
            stranger.Kill();
            await stranger.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Starts <c>setsid sleep 30</c> (a session leader, like a new terminal) on <paramref name="pid"/>:
    /// the next pid is set to it just before the start; another process on the machine may take it
    /// first, or the kernel may not have let go of it yet (the terminal's reference to its session
    /// goes when the terminal is freed), so it is tried again until it lands.
    /// </summary>
    private static Process StartOnPid(int pid)
    {
        var deadline = Stopwatch.StartNew();
        var attempts = 0;
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            attempts++;
            File.WriteAllText("/proc/sys/kernel/ns_last_pid", (pid - 1).ToString(CultureInfo.InvariantCulture));
            var p = Process.Start(new ProcessStartInfo("/usr/bin/setsid", ["sleep", "30"]) { UseShellExecute = false })!;
            if (p.Id == pid)
            {
                return p;
            }

            p.Kill();
            p.WaitForExit();
            p.Dispose();
        }

        throw new InvalidOperationException($"pid {pid} could not be had in {attempts} attempts over 30 s");
    }

    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class PidReuseCollection
    {
        public const string Name = "pid reuse";
    }

    private sealed class ExitListener(TaskCompletionSource exited) : IPtyListener
    {
        public void OnOutput(ReadOnlySpan<byte> data)
        {
        }

        public void OnExit(PtyExit exit) => exited.TrySetResult();

        public void OnListenerFailed(Exception exception) => exited.TrySetException(exception);
    }
}
