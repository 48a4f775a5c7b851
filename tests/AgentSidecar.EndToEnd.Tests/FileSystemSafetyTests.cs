using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// The paths a user gives (--data-dir, --listen): created private when missing, never chmodded when
/// they exist, no symbolic links followed, nothing deleted that is not the sidecar's own stale socket.
/// </summary>
public sealed class FileSystemSafetyTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const UnixFileMode Shared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly string _root = Directory.CreateTempSubdirectory("sidecar-fs-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact(Timeout = 60000)]
    public async Task Listen_InASharedDirectory_LeavesItsModeAlone_TheSocketIsPrivate()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_root, "shared")).FullName;
        File.SetUnixFileMode(shared, Shared);
        var socket = Path.Combine(shared, "sidecar.sock");
        await using (var sidecar = await SidecarProcess.StartAsync(Path.Combine(_root, "data"), extraArgs: ["--listen", socket]))
        {
            Assert.Equal(socket, sidecar.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("socket").GetString());
            Assert.Equal(Shared, File.GetUnixFileMode(shared));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
            using var second = await SidecarProcess.ConnectSocketAsync(socket);
            await second.RequestAsync("session/list", new JsonObject());
        }

        Assert.Equal(Shared, File.GetUnixFileMode(shared));
        Assert.False(File.Exists(socket), "the sidecar removes its own socket when it stops");
    }

    [Fact(Timeout = 60000)]
    public async Task Listen_OntoARegularFile_IsRefused_TheFileStays()
    {
        var path = Path.Combine(_root, "notes.txt");
        await File.WriteAllTextAsync(path, "my notes", TestContext.Current.CancellationToken);
        await using var sidecar = await SidecarProcess.StartAsync(Path.Combine(_root, "data"), extraArgs: ["--listen", path], initialize: false);
        Assert.Equal(2, await sidecar.WaitForExitAsync(Wait));
        Assert.Contains("is not a socket", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Equal("my notes", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 60000)]
    public async Task RunDirectory_ASymbolicLink_IsRefused_ItsTargetUntouched()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var target = Directory.CreateDirectory(Path.Combine(_root, "elsewhere")).FullName;
        File.SetUnixFileMode(target, Shared);
        Directory.CreateSymbolicLink(Path.Combine(data, "run"), target);
        await using var sidecar = await SidecarProcess.StartAsync(data, initialize: false);
        Assert.Equal(2, await sidecar.WaitForExitAsync(Wait));
        Assert.Contains("symbolic link", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Equal(Shared, File.GetUnixFileMode(target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
    }
}
