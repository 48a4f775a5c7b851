using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>
/// Auggie rewrites its whole session document after each exchange, so the watermark is the number of
/// chatHistory entries already returned, and every change means parsing the document again.
/// </summary>
internal sealed class AuggieSessionReader : ITranscriptReader
{
    private readonly HashSet<string> _returnedRequests = [];
    private long _exchanges;
    private bool _started;
    private FileStat? _seen;
    private bool _gone;

    public AuggieSessionReader(string path, long watermark)
    {
        Path = path;
        _exchanges = watermark;
        _started = watermark > 0; // SessionStarted went out with the first exchange, before the restart
    }

    public string Path { get; }

    public string? AgentSessionId { get; private set; }

    public long Watermark => _exchanges;

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
            return [];
        }
        _gone = false;
        if (JsonlLines.TryReadAll(Path) is not { } bytes)
        {
            return []; // unreadable for now: try again next call
        }
        var items = new List<TranscriptItem>();
        // Either way this state is done with: the next call reads again once the file changes, and a
        // file caught mid-rewrite always changes again (size or mtime) when its writer finishes.
        _seen = now;
        try
        {
            using var doc = JsonDocument.Parse(bytes, TranscriptJson.Options);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("the document is not a JSON object");
            }
            Read(doc.RootElement, items);
        }
        catch (JsonException e)
        {
            items.Add(new TranscriptProblem($"{Name}: the session file is not valid JSON ({e.Message}); will read it again when it changes"));
        }
        return items;
    }

    private void Read(JsonElement root, List<TranscriptItem> items)
    {
        AgentSessionId ??= AuggieSession.SessionId(root) ?? System.IO.Path.GetFileNameWithoutExtension(Path);
        var history = root.Prop("chatHistory");
        var entries = history.ValueKind == JsonValueKind.Array ? history.EnumerateArray().ToList() : [];
        if (!_started && entries.Count > 0)
        {
            _started = true;
            var dirs = AuggieSession.Directories(root);
            items.Add(new SessionStarted(AgentSessionId, dirs.Count > 0 ? dirs[0] : null, AuggieSession.Created(root)));
        }
        if (entries.Count < _exchanges)
        {
            items.Add(new TranscriptProblem(
                $"{Name}: chatHistory has {entries.Count} exchanges, fewer than the {_exchanges} already read; going on from there"));
            _exchanges = entries.Count;
        }
        for (int i = (int)_exchanges; i < entries.Count; i++)
        {
            // A shrunk-then-regrown history must not return the same exchange twice.
            var requestId = entries[i].Prop("exchange").Str("request_id");
            if (requestId is null || _returnedRequests.Add(requestId))
            {
                AuggieSession.Exchange(entries[i], items);
            }
        }
        _exchanges = entries.Count;
    }
}
