using System.Collections.Concurrent;
using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>A transcript on disk. Created: the file's birth time where the file system keeps one (Auggie: the document's "created").</summary>
public sealed record TranscriptFile(string Path, string? AgentSessionId, string? Cwd, DateTimeOffset Created, string? FirstUserMessage);

/// <summary>
/// Finds the transcript files an agent writes for a workspace. baseDir: Codex "$CODEX_HOME/sessions",
/// Claude "~/.claude/projects", Auggie "~/.augment/sessions". Never throws for unreadable files.
/// </summary>
public static class TranscriptLocator
{
    private static readonly ConcurrentDictionary<string, DateTimeOffset> s_firstSeen = new(StringComparer.Ordinal);

    /// <summary>
    /// The newest transcript for <paramref name="cwd"/> created at or after <paramref name="since"/> and not in
    /// <paramref name="exclude"/> (files already taken by another session), or null. Auggie files that name no
    /// directory are accepted on their time alone.
    /// </summary>
    public static TranscriptFile? FindNew(string kind, string baseDir, string cwd, DateTimeOffset since, IReadOnlySet<string> exclude)
    {
        ArgumentNullException.ThrowIfNull(exclude);
        var source = Source(kind, baseDir, cwd);
        Candidate? best = null;
        foreach (var path in source.Files(since))
        {
            if (exclude.Contains(path) || FileStat.TryGet(path) is not { } stat)
            {
                continue;
            }
            if (TryDescribe(source, path, stat, since) is { } c && c.Match != CwdMatch.No && c.Created >= since
                && (best is null || c.Created > best.Created || (c.Created == best.Created && string.CompareOrdinal(path, best.Path) > 0)))
            {
                best = c;
            }
        }
        return best is null ? null : source.Complete(best);
    }

    /// <summary>The transcript of <paramref name="agentSessionId"/> (e.g. to resume it), whatever cwd it records.</summary>
    public static TranscriptFile? FindById(string kind, string baseDir, string cwd, string agentSessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentSessionId);
        if (agentSessionId.AsSpan().IndexOfAny("/\\*?\0") >= 0 || agentSessionId is "." or "..")
        {
            return null; // it becomes part of a path or a search pattern
        }
        var source = Source(kind, baseDir, cwd);
        foreach (var path in source.FilesForId(agentSessionId))
        {
            if (FileStat.TryGet(path) is { } stat && TryDescribe(source, path, stat, null) is { } c)
            {
                return source.Complete(c);
            }
        }
        return null;
    }

    /// <summary>Every transcript recorded for <paramref name="cwd"/>, newest first (to import past conversations).</summary>
    public static IReadOnlyList<TranscriptFile> ListForWorkspace(string kind, string baseDir, string cwd)
    {
        var source = Source(kind, baseDir, cwd);
        var found = new List<Candidate>();
        foreach (var path in source.Files(null))
        {
            if (FileStat.TryGet(path) is { } stat && TryDescribe(source, path, stat, null) is { } c
                && (c.Match == CwdMatch.Yes || (c.Match == CwdMatch.Unknown && source.UnknownCwdIsThisWorkspace)))
            {
                found.Add(c);
            }
        }
        return found
            .OrderByDescending(c => c.Created)
            .ThenByDescending(c => c.Path, StringComparer.Ordinal)
            .Select(source.Complete)
            .ToList();
    }

    private static Candidate? TryDescribe(LocatorSource source, string path, FileStat stat, DateTimeOffset? since)
    {
        try
        {
            return source.Describe(path, stat, since);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // deleted or replaced while being looked at: the next call sees its new state
        }
    }

    private static LocatorSource Source(string kind, string baseDir, string cwd)
    {
        ArgumentException.ThrowIfNullOrEmpty(baseDir);
        ArgumentException.ThrowIfNullOrEmpty(cwd);
        var dir = Path.GetFullPath(baseDir);
        return kind switch
        {
            TranscriptReaders.CodexRollout => new CodexSource(dir, cwd),
            TranscriptReaders.ClaudeJsonl => new ClaudeSource(dir, cwd),
            TranscriptReaders.AuggieSession => new AuggieSource(dir, cwd),
            _ => throw new ArgumentException($"Unknown transcript kind '{kind}'.", nameof(kind)),
        };
    }

    /// <summary>Birth time when the file system keeps one, else the last write time when this process first saw the file.</summary>
    internal static DateTimeOffset CreatedAt(string path, FileStat stat) =>
        stat.Birth ?? s_firstSeen.GetOrAdd(path, stat.LastWrite);

    internal static string NormalizeDir(string dir)
    {
        var full = Path.GetFullPath(dir);
        return full.Length > 1 ? Path.TrimEndingDirectorySeparator(full) : full;
    }

    internal static CwdMatch MatchCwd(string wanted, IEnumerable<string> recorded)
    {
        var match = CwdMatch.Unknown;
        foreach (var dir in recorded)
        {
            if (string.Equals(NormalizeDir(dir), wanted, StringComparison.Ordinal))
            {
                return CwdMatch.Yes;
            }
            match = CwdMatch.No;
        }
        return match;
    }

    /// <summary>Reads lines from the start through <paramref name="parser"/> until the first UserMessage.</summary>
    internal static string? FirstUserMessage(string path, ITranscriptLineParser parser, long maxBytes)
    {
        try
        {
            using var stream = JsonlLines.TryOpen(path);
            if (stream is null)
            {
                return null;
            }
            string? found = null;
            var items = new List<TranscriptItem>();
            JsonlLines.Scan(stream, 0, maxBytes, line =>
            {
                items.Clear();
                if (!line.TooLong && TryParse(line.Bytes) is { } doc)
                {
                    using (doc)
                    {
                        parser.Parse(doc.RootElement, items);
                    }
                }
                found = items.OfType<UserMessage>().FirstOrDefault()?.Text;
                return found is null;
            });
            return found;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static JsonDocument? TryParse(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            var doc = JsonDocument.Parse(bytes, TranscriptJson.Options);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                return doc;
            }
            doc.Dispose();
        }
        catch (JsonException)
        {
        }
        return null;
    }
}

internal enum CwdMatch
{
    Unknown,
    Yes,
    No,
}

/// <summary>A file that may be the one wanted; the first user message is read only for the files returned.</summary>
internal sealed record Candidate(string Path, string? AgentSessionId, string? Cwd, DateTimeOffset Created, CwdMatch Match, string? FirstUserMessage = null);

internal abstract class LocatorSource(string baseDir, string cwd)
{
    protected string BaseDir { get; } = baseDir;

    protected string Cwd { get; } = TranscriptLocator.NormalizeDir(cwd);

    /// <summary>Claude keeps one folder per cwd, so a file whose lines name no cwd yet still belongs to it.</summary>
    public virtual bool UnknownCwdIsThisWorkspace => false;

    /// <summary>Candidate files, newest-first not required; <paramref name="since"/> only prunes.</summary>
    public abstract IEnumerable<string> Files(DateTimeOffset? since);

    public abstract IEnumerable<string> FilesForId(string id);

    /// <summary>Null when the file is not a transcript (yet). <paramref name="since"/> allows skipping work on old files.</summary>
    public abstract Candidate? Describe(string path, FileStat stat, DateTimeOffset? since);

    public virtual TranscriptFile Complete(Candidate c) =>
        new(c.Path, c.AgentSessionId, c.Cwd, c.Created, c.FirstUserMessage);

    protected static List<string> SafeFiles(string dir, string pattern)
    {
        try
        {
            return Directory.Exists(dir) ? Directory.EnumerateFiles(dir, pattern).ToList() : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    protected static List<string> SafeDirs(string dir, string pattern = "*")
    {
        try
        {
            return Directory.Exists(dir) ? Directory.EnumerateDirectories(dir, pattern).ToList() : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
