using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>Turns one JSON line into items; keeps whatever state spans lines (open turn, usage per message).</summary>
internal interface ITranscriptLineParser
{
    string? AgentSessionId { get; }

    void Parse(JsonElement line, List<TranscriptItem> items);
}

/// <summary>
/// Reads an append-only JSONL transcript (Codex rollout, Claude Code) from a byte offset. Only lines
/// ending in '\n' are consumed, so a line the agent is still writing is read on a later call.
/// </summary>
internal sealed class JsonlTranscriptReader : ITranscriptReader
{
    // On open with a watermark, the parser's state is rebuilt from the file's head (ids) and the
    // tail before the watermark (open turn, usage per message id): enough, and bounded for big files.
    private const int HeadReplayBytes = 256 * 1024;
    private const int TailReplayBytes = 1024 * 1024;
    private const int PrefixBytes = 64;

    private readonly ITranscriptLineParser _parser;
    private readonly HashSet<ulong> _returnedLines = [];
    private readonly List<TranscriptItem> _scratch = [];
    private long _offset;
    private bool _primed;
    private bool _skipPartialLine;
    private bool _dedupe;
    private bool _gone;
    private FileStat? _seen;
    private byte[]? _prefix;

    public JsonlTranscriptReader(string path, long watermark, ITranscriptLineParser parser)
    {
        Path = path;
        _offset = watermark;
        _parser = parser;
    }

    public string Path { get; }

    public string? AgentSessionId => _parser.AgentSessionId;

    public long Watermark => _offset;

    private string Name => System.IO.Path.GetFileName(Path);

    public IReadOnlyList<TranscriptItem> ReadNew()
    {
        if (FileStat.TryGet(Path) is not { } now)
        {
            if (_seen is null || _gone)
            {
                return [];
            }
            _gone = true;
            return [new TranscriptProblem($"{Name}: the file is gone")];
        }
        if (!_gone && _seen == now)
        {
            return []; // the cheap path: same size, inode and mtime as last time
        }
        var items = new List<TranscriptItem>();
        try
        {
            using var stream = JsonlLines.TryOpen(Path);
            if (stream is null)
            {
                return items;
            }
            if (!_primed)
            {
                Prime(stream, now, items);
            }
            else if (WhyRewritten(stream, now) is { } why)
            {
                items.Add(new TranscriptProblem($"{Name}: {why}; reading it again from the start, skipping what was already returned"));
                _offset = 0;
                _dedupe = true;
                _skipPartialLine = false;
                _prefix = null;
            }
            ReadLines(stream, items);
            RememberPrefix(stream);
            _seen = now;
            _gone = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Transient (file being replaced, permissions): keep what was read and try again next call.
            _seen = null;
        }
        return items;
    }

    private void Prime(FileStream stream, FileStat now, List<TranscriptItem> items)
    {
        _primed = true;
        if (_offset == 0)
        {
            return;
        }
        if (now.Size < _offset)
        {
            items.Add(new TranscriptProblem($"{Name}: the file ({now.Size} bytes) is shorter than the saved watermark ({_offset}); reading it from the start"));
            _offset = 0;
            return;
        }
        if (!JsonlLines.IsLineStart(stream, _offset))
        {
            items.Add(new TranscriptProblem($"{Name}: the saved watermark {_offset} is not at a line start; skipping to the next line"));
            _skipPartialLine = true;
        }
        // Rebuild the parser's state without returning anything: those items went out before the restart.
        long headEnd = JsonlLines.Scan(stream, 0, Math.Min(_offset, HeadReplayBytes), line => Replay(line));
        long tailFrom = Math.Max(headEnd, _offset - TailReplayBytes);
        if (tailFrom > headEnd && !JsonlLines.IsLineStart(stream, tailFrom))
        {
            tailFrom = JsonlLines.NextLineStart(stream, tailFrom);
        }
        if (tailFrom >= 0 && tailFrom < _offset)
        {
            JsonlLines.Scan(stream, tailFrom, _offset, line => Replay(line));
        }
    }

    private bool Replay(JsonlLine line)
    {
        if (Parse(line) is { } fingerprint && _scratch.Count > 0)
        {
            _returnedLines.Add(fingerprint);
        }
        return true;
    }

    private void ReadLines(FileStream stream, List<TranscriptItem> items)
    {
        if (_skipPartialLine)
        {
            long next = JsonlLines.NextLineStart(stream, _offset);
            if (next < 0)
            {
                return;
            }
            _offset = next;
            _skipPartialLine = false;
        }
        JsonlLines.Scan(stream, _offset, long.MaxValue, line =>
        {
            if (Parse(line) is { } fingerprint && _scratch.Count > 0)
            {
                // After a rewrite, a line whose items already went out is parsed (for state) but not returned.
                bool fresh = _returnedLines.Add(fingerprint) || !_dedupe;
                if (fresh)
                {
                    items.AddRange(_scratch);
                }
            }
            _offset = line.End; // per line, so an exception later cannot make these items come back
            return true;
        });
    }

    /// <summary>Parses one line into <see cref="_scratch"/>; returns its fingerprint, or null for a blank line.</summary>
    private ulong? Parse(JsonlLine line)
    {
        _scratch.Clear();
        if (line.TooLong)
        {
            _scratch.Add(new TranscriptProblem($"{Name}: line at byte {line.Start} is longer than {JsonlLines.MaxLineBytes} bytes; skipped"));
            return (ulong)line.Start;
        }
        var span = line.Bytes.Span;
        if (span.IndexOfAnyExcept(" \t\r"u8) < 0)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(line.Bytes, TranscriptJson.Options);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                _scratch.Add(new TranscriptProblem($"{Name}: line at byte {line.Start} is not a JSON object; skipped"));
            }
            else
            {
                _parser.Parse(doc.RootElement, _scratch);
            }
        }
        catch (JsonException e)
        {
            _scratch.Clear();
            _scratch.Add(new TranscriptProblem($"{Name}: line at byte {line.Start} is not valid JSON ({e.Message}); skipped"));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            _scratch.Clear();
            _scratch.Add(new TranscriptProblem($"{Name}: line at byte {line.Start} could not be interpreted ({e.Message}); skipped"));
        }
        return TranscriptJson.Fingerprint(span);
    }

    private string? WhyRewritten(FileStream stream, FileStat now)
    {
        if (_seen is { } seen && !now.SameFileAs(seen))
        {
            return "the file was replaced (new inode)";
        }
        if (now.Size < _offset)
        {
            return $"the file shrank to {now.Size} bytes, below the {_offset} already read";
        }
        if (_prefix is not null)
        {
            var head = ReadHead(stream, _prefix.Length);
            if (head.Length < _prefix.Length || !head.AsSpan().SequenceEqual(_prefix))
            {
                return "the file was rewritten in place (its first bytes changed)";
            }
        }
        return null;
    }

    private void RememberPrefix(FileStream stream)
    {
        if (_prefix is null || _prefix.Length < PrefixBytes)
        {
            _prefix = ReadHead(stream, PrefixBytes);
        }
    }

    private static byte[] ReadHead(FileStream stream, int count)
    {
        var buffer = new byte[count];
        stream.Seek(0, SeekOrigin.Begin);
        int total = 0;
        int n;
        while (total < count && (n = stream.Read(buffer, total, count - total)) > 0)
        {
            total += n;
        }
        return total == count ? buffer : buffer[..total];
    }
}
