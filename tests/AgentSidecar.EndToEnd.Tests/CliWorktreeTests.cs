using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary><c>agent-sidecar chat --worktree</c>: the chat's session in a new git worktree, against the built sidecar.</summary>
public sealed class CliWorktreeTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-cliwt-").FullName;

    public CliWorktreeTests()
    {
        Repo = Path.Combine(_dir, "repo");
        Directory.CreateDirectory(Repo);
        LifecycleTests.Git(Repo, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(Repo, "README"), "hello\n");
        LifecycleTests.Git(Repo, "add", "README");
        LifecycleTests.Git(Repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "first");
    }

    private string Repo { get; }

    private string DataDir => Path.Combine(_dir, "data");

    public void Dispose()
    {
        try
        {
            // Worktrees are registered in the repository: prune them with it gone.
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact(Timeout = 120000)]
    public async Task ChatWorktree_StartsTheSessionInANewWorktreeUnderTheDataDir_AndTheAgentRunsThere()
    {
        await using var editor = await SidecarProcess.StartAsync(DataDir, initializationOptions: LifecycleTests.Options());

        await using var chat = CliTests.StartCliIn(_dir, DataDir, "chat", "--provider", "fake", "--workspace", Repo, "--worktree", "--task", "T-wt");
        await chat.SayAsync("hello", "ECHO[1]:hello");
        await chat.WriteAsync("/exit\n");
        var run = await chat.FinishAsync();
        Assert.True(run.Code == 0, run.Stderr);

        var said = Regex.Match(run.Stderr, @"Worktree: (\S+) \(branch (\S+)\)");
        Assert.True(said.Success, run.Stderr);
        var sid = Regex.Match(run.Stderr, @"Session (\w+) \(fake\)").Groups[1].Value;
        Assert.NotEmpty(sid);

        // The editor's sidecar ran it (the CLI went through its socket): a live worktree session there.
        var s = await editor.Client.RequestAsync("session/get", new JsonObject { ["sessionId"] = sid });
        Assert.Equal("worktree", s.GetProperty("kind").GetString());
        Assert.Equal("active", s.GetProperty("status").GetString());
        Assert.Equal("T-wt", s.GetProperty("taskId").GetString());
        var wt = s.GetProperty("worktree");
        var path = wt.GetProperty("path").GetString()!;
        var branch = wt.GetProperty("branch").GetString()!;
        Assert.Equal(said.Groups[1].Value, path);
        Assert.Equal(said.Groups[2].Value, branch);
        Assert.Equal("active", wt.GetProperty("state").GetString());
        Assert.StartsWith(Path.Combine(DataDir, "worktrees") + Path.DirectorySeparatorChar, path, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(path, "README")), path);
        Assert.Contains(branch, LifecycleTests.Git(Repo, "branch", "--list"), StringComparison.Ordinal);

        // The agent itself runs in the worktree, not in the folder the chat was started in.
        var agent = s.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("kind").GetString() == "agent");
        Assert.Equal(path, agent.GetProperty("cwd").GetString());
        var screen = await editor.Client.RequestAsync("worker/screen", new JsonObject { ["workerId"] = agent.GetProperty("id").GetString() });
        Assert.Contains($"Fake agent 1.0 in {path}", string.Join('\n', screen.GetProperty("lines").EnumerateArray().Select(l => l.GetString())), StringComparison.Ordinal);

        // Ending it removes the clean worktree, as for any worktree session.
        var ended = await editor.Client.RequestAsync("session/end", new JsonObject { ["sessionId"] = sid }, Wait);
        Assert.Equal("removed", ended.GetProperty("worktree").GetProperty("state").GetString());
        Assert.False(Directory.Exists(path));
    }

    [Fact(Timeout = 120000)]
    public async Task ChatWorktree_InAFolderThatIsNotAGitRepository_ExitsWith5_AndSaysWhy()
    {
        var plain = Path.Combine(_dir, "plain");
        Directory.CreateDirectory(plain);
        await using var run = CliTests.StartCliIn(_dir, DataDir, "chat", "--provider", "shell", "--workspace", plain, "--worktree");
        var result = await run.FinishAsync();
        Assert.Equal(5, result.Code);
        Assert.Contains("not a git repository", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(DataDir, "worktrees")) && Directory.EnumerateFileSystemEntries(Path.Combine(DataDir, "worktrees")).Any());
    }

    [Fact(Timeout = 60000)]
    public async Task ChatWorktree_WithResume_IsAUsageError()
    {
        await using var run = CliTests.StartCliIn(_dir, DataDir, "chat", "--resume", "0123456789abcdef", "--worktree");
        var result = await run.FinishAsync();
        Assert.Equal(2, result.Code);
        Assert.Contains("--worktree", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--resume", result.Stderr, StringComparison.Ordinal);
    }
}
