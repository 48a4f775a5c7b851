using System.Text;

namespace AgentSidecar.Core.Chat;

/// <summary>
/// Codex's patch format (<c>*** Begin Patch</c> … <c>*** Update File: path</c> / <c>*** Add File:</c> /
/// <c>*** Delete File:</c>, hunks of <c>@@</c>, <c>-</c>, <c>+</c> and context lines, <c>*** End Patch</c>)
/// as one unified diff per file.
/// </summary>
internal static class PatchFiles
{
    public static List<EditedFile> Parse(string patch)
    {
        var files = new List<EditedFile>();
        string? path = null;
        var created = false;
        var deleted = false;
        var body = new StringBuilder();
        var added = new StringBuilder();

        void Flush()
        {
            if (path is null)
            {
                return;
            }

            var header = $"--- {(created ? "/dev/null" : "a/" + path)}\n+++ {(deleted ? "/dev/null" : "b/" + path)}\n";
            var hunks = created ? $"@@ -0,0 +1,{added.ToString().Count(c => c == '\n')} @@\n{body}" : body.ToString();
            files.Add(new EditedFile(path, null, created ? added.ToString() : null, header + hunks, created, deleted));
            path = null;
            body.Clear();
            added.Clear();
        }

        foreach (var raw in patch.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("*** Update File: ", StringComparison.Ordinal) || line.StartsWith("*** Add File: ", StringComparison.Ordinal) || line.StartsWith("*** Delete File: ", StringComparison.Ordinal))
            {
                Flush();
                path = line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..].Trim();
                created = line.StartsWith("*** Add", StringComparison.Ordinal);
                deleted = line.StartsWith("*** Delete", StringComparison.Ordinal);
                continue;
            }

            if (path is null || line.StartsWith("*** ", StringComparison.Ordinal))
            {
                if (line.StartsWith("*** End", StringComparison.Ordinal))
                {
                    Flush();
                }

                continue;
            }

            if (line.StartsWith("@@", StringComparison.Ordinal) || line.StartsWith('-') || line.StartsWith('+') || line.StartsWith(' '))
            {
                body.Append(line).Append('\n');
                if (created && line.StartsWith('+'))
                {
                    added.Append(line[1..]).Append('\n');
                }
            }
        }

        Flush();
        return files;
    }

    /// <summary>
    /// The text before a patch, from the text after it: each hunk's new lines (context and added) are
    /// found in order and put back as its old lines (context and removed). Null when a hunk is not
    /// found (the file changed again meanwhile).
    /// </summary>
    public static string? Reverse(string after, string unifiedHunks)
    {
        var lines = after.Split('\n').ToList();
        var trailingNewline = after.EndsWith('\n');
        if (trailingNewline)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var from = 0;
        foreach (var hunk in Hunks(unifiedHunks))
        {
            var added = hunk.Where(l => l[0] is ' ' or '+').Select(l => l[1..]).ToList();
            var removed = hunk.Where(l => l[0] is ' ' or '-').Select(l => l[1..]).ToList();
            var at = Find(lines, added, from);
            if (at < 0)
            {
                return null;
            }

            lines.RemoveRange(at, added.Count);
            lines.InsertRange(at, removed);
            from = at + removed.Count;
        }

        return string.Join('\n', lines) + (trailingNewline ? "\n" : string.Empty);
    }

    private static IEnumerable<List<string>> Hunks(string diff)
    {
        List<string>? hunk = null;
        foreach (var line in diff.Split('\n'))
        {
            if (line.StartsWith("@@", StringComparison.Ordinal))
            {
                if (hunk is { Count: > 0 })
                {
                    yield return hunk;
                }

                hunk = [];
            }
            else if (hunk is not null && line.Length > 0 && line[0] is ' ' or '+' or '-' && !line.StartsWith("+++", StringComparison.Ordinal) && !line.StartsWith("---", StringComparison.Ordinal))
            {
                hunk.Add(line);
            }
        }

        if (hunk is { Count: > 0 })
        {
            yield return hunk;
        }
    }

    private static int Find(List<string> lines, List<string> chunk, int from)
    {
        if (chunk.Count == 0)
        {
            return from <= lines.Count ? from : -1;
        }

        for (var i = from; i + chunk.Count <= lines.Count; i++)
        {
            if (chunk.Select((c, j) => lines[i + j] == c).All(x => x))
            {
                return i;
            }
        }

        return -1;
    }
}
