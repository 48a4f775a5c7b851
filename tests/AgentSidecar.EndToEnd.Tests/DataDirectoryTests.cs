using System.Text.Json.Nodes;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// A data directory that is not empty and not the sidecar's is refused before anything is written
/// to it (issue 16: <c>--data-dir ~/projects</c> put a database among the user's files), by the
/// sidecar, the CLI and <c>acp</c> alike; <c>--adopt-data-dir</c> uses it anyway, after which it is ours.
/// </summary>
public sealed class DataDirectoryTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Refusal = "is not empty and is not an agent-sidecar data directory";

    private readonly string _root = Directory.CreateTempSubdirectory("sidecar-dd-").FullName;

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
    public async Task ANonEmptyForeignDirectory_IsRefused_Exit2_WithOneLineThatSaysWhatToDo_AndNothingWrittenIntoIt()
    {
        var foreign = ForeignDirectory();
        var before = Listing(foreign);

        await using var sidecar = await SidecarProcess.StartAsync(foreign, initialize: false);
        Assert.Equal(2, await sidecar.WaitForExitAsync(Wait));
        var line = Assert.Single(sidecar.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("agent-sidecar: cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains($"{foreign} {Refusal}", line, StringComparison.Ordinal);
        Assert.Contains("notes.txt", line, StringComparison.Ordinal);
        Assert.Contains("--adopt-data-dir", line, StringComparison.Ordinal);
        Assert.Equal(before, Listing(foreign));
    }

    [Theory(Timeout = 60000)]
    [InlineData("sessions", "list")]
    [InlineData("acp")]
    public async Task TheCliAndAcp_RefuseAForeignDirectoryTheSameWay(params string[] command)
    {
        var foreign = ForeignDirectory();
        var before = Listing(foreign);

        await using var run = CliTests.StartCliIn(_root, foreign, command);
        var result = await run.FinishAsync();
        Assert.Equal(2, result.Code);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("agent-sidecar: cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains($"{foreign} {Refusal}", line, StringComparison.Ordinal);
        Assert.Equal(before, Listing(foreign));
    }

    [Fact(Timeout = 60000)]
    public async Task AForeignDirectory_WithAdoptDataDir_IsUsed_AndIsOursFromThenOn()
    {
        var foreign = ForeignDirectory();
        var workspace = Directory.CreateDirectory(Path.Combine(_root, "ws")).FullName;
        await using (var sidecar = await SidecarProcess.StartAsync(foreign, extraArgs: ["--adopt-data-dir"]))
        {
            var s = await sidecar.Client.RequestAsync("session/start", new JsonObject { ["workspace"] = workspace, ["provider"] = "shell" });
            Assert.Equal("active", s.GetProperty("status").GetString());
            await sidecar.ShutdownAsync();
        }

        Assert.True(File.Exists(Path.Combine(foreign, "notes.txt")), "the user's file went away");
        await using var again = await SidecarProcess.StartAsync(foreign);
        var list = await again.Client.RequestAsync("session/list", new JsonObject { ["workspace"] = workspace });
        Assert.Single(list.GetProperty("sessions").EnumerateArray());
    }

    [Fact(Timeout = 60000)]
    public async Task AnExistingDataDirectoryOfOurs_IsAccepted_AlsoWithOnlyItsRunAndWorktreesLeft()
    {
        var data = Path.Combine(_root, "data");
        await using (var first = await SidecarProcess.StartAsync(data))
        {
            await first.ShutdownAsync();
        }

        await using (var second = await SidecarProcess.StartAsync(data))
        {
            Assert.Equal(data, second.Client.InitializeResult!.Value.GetProperty("serverInfo").GetProperty("dataDir").GetString());
            await second.ShutdownAsync();
        }

        // The database removed by hand: what is left is still only the sidecar's own.
        foreach (var f in Directory.EnumerateFiles(data, "sidecar.db*"))
        {
            File.Delete(f);
        }

        Directory.CreateDirectory(Path.Combine(data, "worktrees"));
        Assert.Contains("run", Directory.EnumerateFileSystemEntries(data).Select(Path.GetFileName));
        await using var third = await SidecarProcess.StartAsync(data);
        Assert.True(File.Exists(Path.Combine(data, "sidecar.db")));
    }

    [Fact(Timeout = 60000)]
    public async Task AnEmptyDirectory_IsAccepted_AndBecomesOurs()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        await using var sidecar = await SidecarProcess.StartAsync(empty);
        await sidecar.Client.RequestAsync("session/list", new JsonObject());
        Assert.True(File.Exists(Path.Combine(empty, "sidecar.db")));
    }

    /// <summary>A folder of the user's: a file and a folder with a file in it.</summary>
    private string ForeignDirectory()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "projects")).FullName;
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine\n");
        Directory.CreateDirectory(Path.Combine(dir, "src"));
        File.WriteAllText(Path.Combine(dir, "src", "main.c"), "int main(void) { return 0; }\n");
        return dir;
    }

    /// <summary>Every entry under <paramref name="dir"/> with its size and last write time.</summary>
    private static List<string> Listing(string dir) =>
        [.. Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories)
            .Select(p => new FileInfo(p))
            .Select(f => $"{Path.GetRelativePath(dir, f.FullName)} {(f.Attributes.HasFlag(FileAttributes.Directory) ? -1 : f.Length)} {f.LastWriteTimeUtc.Ticks}")
            .Order(StringComparer.Ordinal)];
}
