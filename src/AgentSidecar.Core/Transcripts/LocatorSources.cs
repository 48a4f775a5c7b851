using System.Globalization;

namespace AgentSidecar.Core.Transcripts;

/// <summary>Codex: <c>sessions/YYYY/MM/DD/rollout-&lt;local time&gt;-&lt;uuid&gt;.jsonl</c>, id and cwd in the first line (session_meta).</summary>
internal sealed class CodexSource(string baseDir, string cwd) : LocatorSource(baseDir, cwd)
{
    private const long HeaderMaxBytes = 8 * 1024 * 1024;
    private const long FirstMessageMaxBytes = 4 * 1024 * 1024;

    public override IEnumerable<string> Files(DateTimeOffset? since)
    {
        // Day folders are named in local time: start a day early so a time-zone edge never hides a file.
        var fromDay = since is { } s ? DateOnly.FromDateTime(s.ToLocalTime().Date).AddDays(-1) : DateOnly.MinValue;
        foreach (var (day, dir) in DayDirs())
        {
            if (day >= fromDay)
            {
                foreach (var file in SafeFiles(dir, "rollout-*.jsonl"))
                {
                    yield return file;
                }
            }
        }
    }

    public override IEnumerable<string> FilesForId(string id) =>
        DayDirs().OrderByDescending(d => d.Day).SelectMany(d => SafeFiles(d.Dir, $"rollout-*-{id}.jsonl"));

    public override Candidate? Describe(string path, FileStat stat, DateTimeOffset? since)
    {
        var created = TranscriptLocator.CreatedAt(path, stat);
        if (since is { } s && created < s)
        {
            return null;
        }
        using var stream = JsonlLines.TryOpen(path);
        if (stream is null)
        {
            return null;
        }
        Candidate? found = null;
        JsonlLines.Scan(stream, 0, HeaderMaxBytes, line =>
        {
            using var doc = line.TooLong ? null : TranscriptLocator.TryParse(line.Bytes);
            var root = doc?.RootElement ?? default;
            var meta = root.Prop("payload");
            // Title threads (thread_source "thread_title") are Codex's own side requests, not conversations.
            if (root.Str("type") == "session_meta" && meta.Str("thread_source") != "thread_title"
                && (meta.Str("id") ?? meta.Str("session_id")) is { } id)
            {
                var recorded = meta.Str("cwd");
                found = new Candidate(path, id, recorded, created,
                    recorded is null ? CwdMatch.Unknown : TranscriptLocator.MatchCwd(Cwd, [recorded]));
            }
            return false; // session_meta is the first line or nothing
        });
        return found;
    }

    public override TranscriptFile Complete(Candidate c) => base.Complete(c with
    {
        FirstUserMessage = TranscriptLocator.FirstUserMessage(c.Path, new CodexRolloutParser(), FirstMessageMaxBytes),
    });

    private List<(DateOnly Day, string Dir)> DayDirs()
    {
        var days = new List<(DateOnly, string)>();
        foreach (var year in SafeDirs(BaseDir))
        {
            foreach (var month in SafeDirs(year))
            {
                foreach (var day in SafeDirs(month))
                {
                    if (int.TryParse(Path.GetFileName(year), NumberStyles.None, CultureInfo.InvariantCulture, out int y)
                        && int.TryParse(Path.GetFileName(month), NumberStyles.None, CultureInfo.InvariantCulture, out int m)
                        && int.TryParse(Path.GetFileName(day), NumberStyles.None, CultureInfo.InvariantCulture, out int d)
                        && y is >= 1 and <= 9999 && m is >= 1 and <= 12 && d >= 1 && d <= DateTime.DaysInMonth(y, m))
                    {
                        days.Add((new DateOnly(y, m, d), day));
                    }
                }
            }
        }
        return days;
    }

}

/// <summary>Claude Code: <c>projects/&lt;cwd, non-alphanumerics as '-'&gt;/&lt;sessionId&gt;.jsonl</c>; lines carry cwd.</summary>
internal sealed class ClaudeSource(string baseDir, string cwd) : LocatorSource(baseDir, cwd)
{
    private const long CwdScanMaxBytes = 1024 * 1024;
    private const long FirstMessageMaxBytes = 4 * 1024 * 1024;
    private const int MaxDirNameLength = 200;

    public override bool UnknownCwdIsThisWorkspace => true;

    public override IEnumerable<string> Files(DateTimeOffset? since) =>
        ProjectDirs().SelectMany(d => SafeFiles(d, "*.jsonl"))
            // agent-*.jsonl: older versions' subagent side chains, not a conversation of their own.
            .Where(f => !Path.GetFileName(f).StartsWith("agent-", StringComparison.Ordinal));

    public override IEnumerable<string> FilesForId(string id)
    {
        var own = ProjectDirs().Select(d => Path.Combine(d, id + ".jsonl"));
        // Resumed from elsewhere: the session may live under another project folder.
        var others = SafeDirs(BaseDir).Select(d => Path.Combine(d, id + ".jsonl"));
        return own.Concat(others).Where(File.Exists);
    }

    public override Candidate? Describe(string path, FileStat stat, DateTimeOffset? since)
    {
        var created = TranscriptLocator.CreatedAt(path, stat);
        if (since is { } s && created < s)
        {
            return null;
        }
        using var stream = JsonlLines.TryOpen(path);
        if (stream is null)
        {
            return null;
        }
        string? recorded = null;
        JsonlLines.Scan(stream, 0, CwdScanMaxBytes, line =>
        {
            using var doc = line.TooLong ? null : TranscriptLocator.TryParse(line.Bytes);
            recorded = doc?.RootElement.Str("cwd");
            return recorded is null;
        });
        var match = recorded is null ? CwdMatch.Unknown : TranscriptLocator.MatchCwd(Cwd, [recorded]);
        return new Candidate(path, Path.GetFileNameWithoutExtension(path), recorded ?? Cwd, created, match);
    }

    public override TranscriptFile Complete(Candidate c) => base.Complete(c with
    {
        FirstUserMessage = TranscriptLocator.FirstUserMessage(c.Path, new ClaudeJsonlParser(), FirstMessageMaxBytes),
    });

    /// <summary>
    /// Claude Code names the folder after the cwd with every character but [A-Za-z0-9] replaced by '-'
    /// ("/tmp/workspace" → "-tmp-workspace"); long names are cut and get a hash suffix. Different cwds
    /// can share a folder ("/a/b-c", "/a/b/c"), hence the cwd check in <see cref="Describe"/>.
    /// </summary>
    internal static string ProjectDirName(string cwd) =>
        string.Create(cwd.Length, cwd, (span, s) =>
        {
            for (int i = 0; i < s.Length; i++)
            {
                span[i] = char.IsAsciiLetterOrDigit(s[i]) ? s[i] : '-';
            }
        });

    private IEnumerable<string> ProjectDirs()
    {
        var name = ProjectDirName(Cwd);
        var exact = Path.Combine(BaseDir, name);
        if (Directory.Exists(exact))
        {
            yield return exact;
        }
        if (name.Length > MaxDirNameLength)
        {
            foreach (var dir in SafeDirs(BaseDir, name[..MaxDirNameLength] + "*"))
            {
                if (dir != exact)
                {
                    yield return dir;
                }
            }
        }
    }
}

/// <summary>Auggie: <c>sessions/&lt;id&gt;.json</c>, the cwd only in the exchanges' ide_state_node.</summary>
internal sealed class AuggieSource(string baseDir, string cwd) : LocatorSource(baseDir, cwd)
{
    public override IEnumerable<string> Files(DateTimeOffset? since) => SafeFiles(BaseDir, "*.json");

    public override IEnumerable<string> FilesForId(string id) => [Path.Combine(BaseDir, id + ".json")];

    public override Candidate? Describe(string path, FileStat stat, DateTimeOffset? since)
    {
        // A session begun after `since` has been written after it: skip parsing older files.
        if (since is { } s && stat.LastWrite < s)
        {
            return null;
        }
        using var doc = JsonlLines.TryReadAll(path) is { } bytes ? TranscriptLocator.TryParse(bytes) : null;
        if (doc is null)
        {
            return null; // mid-rewrite or not a session: the next poll will see it
        }
        var root = doc.RootElement;
        var dirs = AuggieSession.Directories(root);
        // The document is rewritten whole after each exchange, so the file's birth time can move; "created" does not.
        var created = AuggieSession.Created(root) ?? TranscriptLocator.CreatedAt(path, stat);
        return new Candidate(path, AuggieSession.SessionId(root) ?? Path.GetFileNameWithoutExtension(path),
            dirs.Count > 0 ? dirs[0] : null, created, TranscriptLocator.MatchCwd(Cwd, dirs), AuggieSession.FirstUserMessage(root));
    }
}
