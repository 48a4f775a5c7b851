using DiffPlex.Renderer;

namespace AgentSidecar.Core.Chat;

/// <summary>Unified diffs of whole texts (DiffPlex), with the git-style a/ b/ names editors expect.</summary>
internal static class UnifiedDiff
{
    private const int ContextLines = 3;

    public static string Make(string path, string? oldText, string? newText)
    {
        var name = path.TrimStart('/');
        var diff = UnidiffRenderer.GenerateUnidiff(oldText ?? string.Empty, newText ?? string.Empty, oldText is null ? "/dev/null" : "a/" + name, newText is null ? "/dev/null" : "b/" + name, ignoreWhitespace: false, contextLines: ContextLines);
        return diff.EndsWith('\n') || diff.Length == 0 ? diff : diff + "\n";
    }
}
