using System.Diagnostics;
using System.Text.Json.Nodes;

namespace AgentSidecar.Tests.Fakes;

/// <summary>One HTTP request as the fake server received it.</summary>
public sealed record RecordedRequest(
    int Index,
    DateTimeOffset ReceivedAt,
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string BodyText,
    JsonNode? Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>How the fake ends an answer.</summary>
public enum FakeFailure
{
    /// <summary>Stream the whole answer and finish it properly.</summary>
    None,

    /// <summary>Answer with an HTTP error status and a small JSON error body; no stream.</summary>
    HttpError,

    /// <summary>Send the headers and <see cref="FakeReply.PiecesBeforeAbort"/> pieces, then drop the connection.</summary>
    AbortMidStream,

    /// <summary>Drop the connection before any response byte.</summary>
    AbortBeforeResponse,
}

/// <summary>What happened to a streamed answer.</summary>
public enum ReplyOutcome
{
    Completed,
    Failed,
    Aborted,

    /// <summary>The agent closed the connection while the fake was still streaming (e.g. the user pressed Esc).</summary>
    ClientDisconnected,

    /// <summary>The fake server was disposed while streaming.</summary>
    ServerStopped,
}

/// <summary>A scripted answer: its text, how it is paced, and how it ends.</summary>
public sealed record FakeReply
{
    /// <summary>Default number of deltas an answer is cut into.</summary>
    public const int DefaultPieces = 4;

    public required string Text { get; init; }

    /// <summary>How many deltas the text is cut into (at least 1).</summary>
    public int Pieces { get; init; } = DefaultPieces;

    /// <summary>Deltas are spread evenly over this time (zero: as fast as possible). Use it for cancel tests.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.Zero;

    /// <summary>Wait this long before the response headers.</summary>
    public TimeSpan FirstByteDelay { get; init; } = TimeSpan.Zero;

    public FakeFailure Failure { get; init; } = FakeFailure.None;

    public int ErrorStatusCode { get; init; } = 500;

    public int PiecesBeforeAbort { get; init; } = 1;

    public static FakeReply Say(string text) => new() { Text = text };

    /// <summary>An answer streamed slowly: <paramref name="pieces"/> deltas spread over <paramref name="over"/>.</summary>
    public static FakeReply Slow(string text, TimeSpan over, int pieces = 20) =>
        new() { Text = text, Duration = over, Pieces = pieces };

    public static FakeReply Error(int statusCode = 500, string message = "fake failure") =>
        new() { Text = message, Failure = FakeFailure.HttpError, ErrorStatusCode = statusCode };

    public static FakeReply AbortAfter(string text, int piecesBeforeAbort = 1, int pieces = DefaultPieces) =>
        new() { Text = text, Pieces = pieces, Failure = FakeFailure.AbortMidStream, PiecesBeforeAbort = piecesBeforeAbort };

    public static FakeReply Drop() => new() { Text = string.Empty, Failure = FakeFailure.AbortBeforeResponse };

    /// <summary>The text cut into at most <see cref="Pieces"/> non-empty pieces (text elements kept whole).</summary>
    public IReadOnlyList<string> SplitPieces()
    {
        var elements = new List<string>();
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(Text);
        while (e.MoveNext())
        {
            elements.Add(e.GetTextElement());
        }

        if (elements.Count == 0)
        {
            return [string.Empty];
        }

        var count = Math.Clamp(Pieces, 1, elements.Count);
        var result = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var from = i * elements.Count / count;
            var to = (i + 1) * elements.Count / count;
            result.Add(string.Concat(elements.Skip(from).Take(to - from)));
        }

        return result;
    }
}

/// <summary>A finished (or broken) streamed answer, with timings for latency measurements.</summary>
public sealed record ServedReply(
    RecordedRequest Request,
    bool IsTitle,
    string Text,
    ReplyOutcome Outcome,
    long StartTimestamp,
    long FirstByteTimestamp,
    long LastByteTimestamp,
    DateTimeOffset LastByteAt)
{
    /// <summary>From the request's arrival to the last byte of the answer.</summary>
    public TimeSpan ServeTime => Stopwatch.GetElapsedTime(StartTimestamp, LastByteTimestamp);
}
