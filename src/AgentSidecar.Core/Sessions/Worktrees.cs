using System.Diagnostics;
using System.Text;

namespace AgentSidecar.Core.Sessions;

/// <summary>A worktree made for a session: where the agent runs, its branch and the commit it started from.</summary>
public sealed record WorktreeCreated(string Path, string Branch, string BaseCommit);

/// <summary>What happened to a worktree at the end: removed, or kept (with the reason).</summary>
public sealed record WorktreeOutcome(string Path, string? Branch, bool Removed, string? Reason, bool BranchKept);

/// <summary>
/// Git worktrees for <c>kind: "worktree"</c> sessions, through the <c>git</c> command line (the
/// registry has no managed git library that does worktrees). Every call is bounded in time.
/// </summary>
public static class Worktrees
{
    private static readonly TimeSpan GitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Creates <c>&lt;root&gt;/&lt;repo&gt;-&lt;id&gt;</c> on a new branch <c>agent-sidecar/&lt;id&gt;</c> from the
    /// workspace's HEAD. The agent runs in the same subfolder of it as the workspace is of its repository.
    /// </summary>
    public static async Task<WorktreeCreated> CreateAsync(string workspace, string root, string sessionId, CancellationToken cancellationToken)
    {
        var top = await GitAsync(workspace, ["rev-parse", "--show-toplevel"], cancellationToken).ConfigureAwait(false);
        if (top.Code != 0)
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"workspace '{workspace}' is not a git repository, so it cannot have a worktree session (git: {FirstLine(top.Error)}); use kind 'quick' or run 'git init'");
        }

        var head = await GitAsync(workspace, ["rev-parse", "--verify", "HEAD"], cancellationToken).ConfigureAwait(false);
        if (head.Code != 0)
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"the git repository at '{top.Output}' has no commit yet; commit once before starting a worktree session");
        }

        var repoTop = top.Output;
        var shortId = sessionId[^8..];
        var branch = $"agent-sidecar/{shortId}";
        Directory.CreateDirectory(root);
        var path = System.IO.Path.Combine(root, $"{System.IO.Path.GetFileName(repoTop)}-{shortId}");
        var add = await GitAsync(repoTop, ["worktree", "add", "-b", branch, path, head.Output], cancellationToken).ConfigureAwait(false);
        if (add.Code != 0)
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"git could not create a worktree for '{repoTop}': {FirstLine(add.Error)}");
        }

        var relative = System.IO.Path.GetRelativePath(repoTop, workspace);
        var cwd = relative == "." ? path : System.IO.Path.Combine(path, relative);
        return new WorktreeCreated(Directory.Exists(cwd) ? cwd : path, branch, head.Output);
    }

    /// <summary>
    /// Removes the worktree if it has no uncommitted or untracked changes; its branch is deleted too
    /// unless it holds commits beyond <paramref name="baseCommit"/>. A worktree already gone counts as removed.
    /// </summary>
    public static async Task<WorktreeOutcome> RemoveIfCleanAsync(string workspace, string path, string? branch, string? baseCommit, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(path))
        {
            await GitAsync(workspace, ["worktree", "prune"], cancellationToken).ConfigureAwait(false);
            return new WorktreeOutcome(path, branch, true, "it was already gone", branch is not null);
        }

        var status = await GitAsync(path, ["status", "--porcelain", "--untracked-files=all"], cancellationToken).ConfigureAwait(false);
        if (status.Code != 0)
        {
            return new WorktreeOutcome(path, branch, false, $"git status failed: {FirstLine(status.Error)}", true);
        }

        if (status.Output.Length > 0)
        {
            var files = status.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            return new WorktreeOutcome(path, branch, false, $"it has uncommitted changes in {files} file(s); commit or discard them, then run 'git worktree remove {path}'", true);
        }

        var top = await GitAsync(path, ["rev-parse", "--show-toplevel"], cancellationToken).ConfigureAwait(false);
        var worktreeRoot = top.Code == 0 ? top.Output : path;
        var remove = await GitAsync(workspace, ["worktree", "remove", worktreeRoot], cancellationToken).ConfigureAwait(false);
        if (remove.Code != 0)
        {
            return new WorktreeOutcome(path, branch, false, $"git worktree remove failed: {FirstLine(remove.Error)}", true);
        }

        var branchKept = false;
        if (branch is not null)
        {
            var ahead = baseCommit is null ? null : await GitAsync(workspace, ["rev-list", "--count", $"{baseCommit}..{branch}"], cancellationToken).ConfigureAwait(false);
            if (ahead is { Code: 0, Output: "0" })
            {
                await GitAsync(workspace, ["branch", "-D", branch], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                branchKept = true; // the agent committed work there: the branch keeps it
            }
        }

        return new WorktreeOutcome(path, branch, true, branchKept ? $"branch {branch} is kept: it has commits" : null, branchKept);
    }

    private sealed record GitResult(int Code, string Output, string Error);

    private static async Task<GitResult> GitAsync(string cwd, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("git")
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["LC_ALL"] = "C";
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new SidecarException(SidecarError.InvalidWorkspace, "git could not be started");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"worktree sessions need git on PATH: {ex.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(GitTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new SidecarException(SidecarError.InvalidWorkspace, $"git {string.Join(' ', args)} did not finish within {GitTimeout.TotalSeconds:0} s");
            }

            return new GitResult(process.ExitCode, (await stdout.ConfigureAwait(false)).Trim(), (await stderr.ConfigureAwait(false)).Trim());
        }
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
