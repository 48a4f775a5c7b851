using System.Runtime.InteropServices;
using AgentSidecar.Core;
using AgentSidecar.Store;

namespace AgentSidecar.Hosting;

/// <summary>
/// Opens the store on a thread of its own from the first moment of the process. Problem: opening
/// SQLite and checking the migrations took ~30 ms of the cold start, and every client's initialize
/// waits for it. Solution: it runs while the host is built, the RPC layer starts and initialize is
/// read; <see cref="SidecarStartup"/> builds the Core on it when it is done.
/// </summary>
internal sealed class StoreOpening : IDisposable
{
    /// <summary>SIGXFSZ on Linux (x86-64 and arm64).</summary>
    private const int SigXfsz = 25;

    private readonly PosixSignalRegistration _fileSizeSignal;

    public StoreOpening(string dataDir)
    {
        var path = new SidecarOptions { DataDir = dataDir }.DatabasePath;
        FileSystemSafety.EnsureDirectory(dataDir, "the data directory");
        // A file-size limit (RLIMIT_FSIZE) must make a write fail with EFBIG, which the store
        // reports, not kill the sidecar with SIGXFSZ (found by the disk-full fault test).
        _fileSizeSignal = PosixSignalRegistration.Create((PosixSignal)SigXfsz, context => context.Cancel = true);
        Task = System.Threading.Tasks.Task.Factory.StartNew(() => SidecarStore.Open(path), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public Task<SidecarStore> Task { get; }

    /// <summary>The open store; only asked for once <see cref="Task"/> completed.</summary>
    public SidecarStore Store => Task.GetAwaiter().GetResult();

    public void Dispose() => _fileSizeSignal.Dispose();
}
