// Thousands of PTY children that print and exit at once; every byte must arrive before each exit.
// Run with both cores busy (`yes > /dev/null &` twice):
//   dotnet run -c Release --project scripts/bench/PtyExitStress [RUNS] [CONCURRENT] [BYTES]
// Short children are printed with the size of every delivery; the exit code is the count of them.
using System.Collections.Concurrent;
using System.Globalization;
using AgentSidecar.Terminal.Pty;

var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5_000;
var concurrent = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
var bytes = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10_000;
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
        if (recorders[i].CountAtExit != bytes || exits[i].ExitCode != 0)
        {
            shortChildren++;
            Console.WriteLine($"batch {batch} pid {processes[i].Pid} exit {exits[i].ExitCode}/{exits[i].Signal} got {recorders[i].CountAtExit} chunks [{string.Join(' ', recorders[i].Chunks)}]");
        }
    }

    processes.ForEach(p => p.Dispose());
}

Console.WriteLine($"runs {runs} concurrent {concurrent} bytes {bytes} short {shortChildren}");
return shortChildren;

/// <summary>Every delivery's size, and the total when the exit came.</summary>
internal sealed class ChunkRecorder : IPtyListener
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

    public void OnListenerFailed(Exception exception) => Console.Error.WriteLine($"listener failed: {exception.Message}");
}
