using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>Workspaces: what a session may run in.</summary>
internal static class Workspace
{
    /// <summary>The workspace as an absolute, existing directory without a trailing separator, or 1006.</summary>
    public static string Validate(string workspace)
    {
        if (!Path.IsPathFullyQualified(workspace))
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"workspace '{workspace}' is not an absolute path");
        }

        if (!Directory.Exists(workspace))
        {
            throw new SidecarException(SidecarError.InvalidWorkspace, $"workspace '{workspace}' does not exist or is not a directory");
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(workspace)) is { Length: > 0 } w ? w : "/";
    }

    /// <summary>Where the session's agent runs: its worktree, else the workspace.</summary>
    public static string AgentCwd(SessionRow row) =>
        row.WorktreePath is { } wt && row.WorktreeState is WorktreeStates.Active && Directory.Exists(wt) ? wt : row.Workspace;
}
