using System.Collections.Concurrent;
using AgentSidecar.Core.Transcripts;

namespace AgentSidecar.Core.Chat;

/// <summary>
/// Transcript files taken by sessions: one file belongs to one session, for the sidecar's life.
/// Problem: a claim given up when its session stopped let the next session in the folder take the
/// file: a session started within the clock slack of the last one's file (another agent or model
/// chosen right after a prompt) read the old conversation's answer as its own. Solution: a claim is
/// never given up; the session that made it (resumed, continued) takes it again.
/// </summary>
internal sealed class TranscriptClaims
{
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);

    public bool TryClaim(string path, string sessionId) => _owners.GetOrAdd(path, sessionId) == sessionId;

    public IReadOnlySet<string> TakenByOthers(string sessionId) =>
        _owners.Where(kv => kv.Value != sessionId).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// Finds and reads one agent process's transcript. Problem: several sessions can run the same agent
/// in the same folder, and the agent creates its file only at the first message. Solution: prefer
/// the file the agent process itself has open (/proc/PID/fd); else, only while this session expects
/// one (a turn runs or the user just typed), the newest unclaimed file for the workspace created
/// since the agent started. A claimed file is never read by another session.
/// </summary>
internal sealed class TranscriptWatcher : ITranscriptSource
{
    /// <summary>File lookups (directory scans) at most this often.</summary>
    private const int LookupIntervalMs = 100;

    /// <summary>File times come from a coarse kernel clock: look a little before the start.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromSeconds(1);

    private readonly string _kind;
    private readonly string _baseDir;
    private readonly string _cwd;
    private readonly TranscriptClaims _claims;
    private readonly Func<string> _sessionId;
    private readonly Func<int?> _agentPid;
    private readonly Func<bool> _expecting;
    private readonly TimeProvider _clock;
    private readonly HashSet<string> _retired = new(StringComparer.Ordinal);
    private string? _resumeId;
    private DateTimeOffset _since;
    private ITranscriptReader? _reader;
    private long _lastLookup;
    private long _lastMoveCheck;
    private HashSet<string>? _seenThreadLocks;

    public TranscriptWatcher(string kind, string baseDir, string cwd, DateTimeOffset since, string? resumeAgentSessionId, TranscriptClaims claims, Func<string> sessionId, Func<int?> agentPid, Func<bool> expecting, TimeProvider clock)
    {
        _kind = kind;
        _baseDir = baseDir;
        _cwd = cwd;
        _since = since;
        _resumeId = resumeAgentSessionId;
        _claims = claims;
        _sessionId = sessionId;
        _agentPid = agentPid;
        _expecting = expecting;
        _clock = clock;
    }

    public string? AgentSessionId => _reader?.AgentSessionId;

    public string? Path => _reader?.Path;

    public IReadOnlyList<TranscriptItem> Poll()
    {
        if (_reader is null && !TryOpen())
        {
            return [];
        }

        return _reader!.ReadNew();
    }

    public bool AgentMovedOn()
    {
        // Only while the session expects its agent to act (a turn runs, or the user typed lately): a
        // clear takes keys, and idle sessions by the hundred must not scan /proc all the time.
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (now - _lastMoveCheck < LookupIntervalMs || !_expecting())
        {
            return false;
        }

        _lastMoveCheck = now;
        switch (_kind)
        {
            case TranscriptReaders.ClaudeJsonl:
                // Claude Code names its new conversation within milliseconds of a clear, before any file exists.
                return _reader?.AgentSessionId is { } reading && ClaudeSessionId() is { } current && current != reading;
            case TranscriptReaders.CodexRollout:
                // Followed even before anything is read, so locks taken before then are known.
                return CodexTookNewThreadLock();
            default:
                // Auggie writes its session file only after the new conversation's first exchange:
                // its clears are seen as typed (its /new needs two Enters, never a menu pick alone).
                return false;
        }
    }

    public void Restart(DateTimeOffset since)
    {
        if (_reader is not null)
        {
            _retired.Add(_reader.Path);
        }

        _reader = null;
        _resumeId = null;
        _since = since;
    }

    private bool TryOpen()
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (now - _lastLookup < LookupIntervalMs)
        {
            return false;
        }

        _lastLookup = now;
        var sessionId = _sessionId();
        string? path = null;
        if (_resumeId is { } id)
        {
            path = TranscriptLocator.FindById(_kind, _baseDir, _cwd, id)?.Path;
        }

        var resumed = path is not null;

        path ??= ClaudeCurrent();
        path ??= OpenByAgent();
        if (path is null && _expecting())
        {
            var exclude = new HashSet<string>(_claims.TakenByOthers(sessionId), StringComparer.Ordinal);
            exclude.UnionWith(_retired);
            path = TranscriptLocator.FindNew(_kind, _baseDir, _cwd, _since - ClockSlack, exclude)?.Path;
        }

        if (path is null || !_claims.TryClaim(path, sessionId))
        {
            return false;
        }

        _reader = TranscriptReaders.Open(_kind, path);
        if (resumed)
        {
            // A resumed conversation: what the file holds is already in the session's log.
            _ = _reader.ReadNew();
        }

        return true;
    }

    /// <summary>
    /// Claude Code names its current conversation in <c>~/.claude/sessions/&lt;pid&gt;.json</c> (the id
    /// changes at /clear): the exact transcript of this agent process, when it exists yet.
    /// </summary>
    private string? ClaudeCurrent()
    {
        if (_kind != TranscriptReaders.ClaudeJsonl || ClaudeSessionId() is not { } id)
        {
            return null;
        }

        var file = TranscriptLocator.FindById(_kind, _baseDir, _cwd, id);
        return file is not null && !_retired.Contains(file.Path) ? file.Path : null;
    }

    /// <summary>The conversation Claude Code's sessions file names for the agent process, if any.</summary>
    private string? ClaudeSessionId()
    {
        if (_agentPid() is not { } pid)
        {
            return null;
        }

        var claudeHome = System.IO.Path.GetDirectoryName(System.IO.Path.TrimEndingDirectorySeparator(_baseDir));
        return claudeHome is null ? null : ClaudeSessionsFile.CurrentSessionId(claudeHome, pid);
    }

    /// <summary>A transcript under the base directory that the agent process (or a child) has open.</summary>
    private string? OpenByAgent()
    {
        var baseDir = System.IO.Path.GetFullPath(_baseDir);
        return OpenFiles().FirstOrDefault(target => !_retired.Contains(target) && target.StartsWith(baseDir, StringComparison.Ordinal)
            && (target.EndsWith(".jsonl", StringComparison.Ordinal) || target.EndsWith(".json", StringComparison.Ordinal)));
    }

    /// <summary>The files the agent process (or a child) has open.</summary>
    private IEnumerable<string> OpenFiles()
    {
        if (_agentPid() is not { } pid)
        {
            yield break;
        }

        foreach (var p in ProcessTree(pid))
        {
            List<string> targets = [];
            try
            {
                foreach (var fd in Directory.EnumerateFiles($"/proc/{p}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget is { } target)
                    {
                        targets.Add(target);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }

            foreach (var t in targets)
            {
                yield return t;
            }
        }
    }

    /// <summary>
    /// Problem: Codex writes nothing at a clear that names the new conversation (its rollout file
    /// comes with the next message, and it keeps the old one open). Solution: it takes a lock file
    /// named by the new thread's id at once (<c>$CODEX_HOME/thread-writer-locks/&lt;id&gt;.lock</c>,
    /// held open): a lock that was not there before, while a conversation is being read, is a new one.
    /// </summary>
    private bool CodexTookNewThreadLock()
    {
        var codexHome = System.IO.Path.GetDirectoryName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(_baseDir)));
        if (codexHome is null)
        {
            return false;
        }

        var locksDir = System.IO.Path.Combine(codexHome, "thread-writer-locks") + "/";
        var locks = OpenFiles().Where(t => t.StartsWith(locksDir, StringComparison.Ordinal) && t.EndsWith(".lock", StringComparison.Ordinal))
            .Select(t => System.IO.Path.GetFileNameWithoutExtension(t)).ToHashSet(StringComparer.Ordinal);
        if (_seenThreadLocks is null)
        {
            _seenThreadLocks = locks;
            return false;
        }

        var fresh = locks.Where(l => !_seenThreadLocks.Contains(l)).ToList();
        _seenThreadLocks.UnionWith(fresh);
        return fresh.Count > 0 && _reader?.AgentSessionId is { } reading && fresh.Any(l => l != reading);
    }

    private static IEnumerable<int> ProcessTree(int pid)
    {
        yield return pid;
        string children;
        try
        {
            children = File.ReadAllText($"/proc/{pid}/task/{pid}/children");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var c in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(c, out var child))
            {
                yield return child;
            }
        }
    }
}
