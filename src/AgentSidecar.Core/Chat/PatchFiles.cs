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
}
