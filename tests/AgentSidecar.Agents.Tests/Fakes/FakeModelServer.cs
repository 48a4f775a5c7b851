using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentSidecar.Tests.Fakes;

/// <summary>
/// The shared part of the fake model servers: an <see cref="HttpListener"/> on 127.0.0.1 with a free
/// port, a thread-safe record of every request, streaming helpers and waits.
/// Problem: HttpListener on Linux is the managed implementation; with SendChunked each Write+Flush
/// goes out as one chunk at once (verified by the tests), which is what SSE/NDJSON need.
/// </summary>
public abstract class FakeModelServer : IAsyncDisposable
{
    /// <summary>How often a free port is tried before giving up (another process may grab it first).</summary>
    private const int PortAttempts = 20;

    /// <summary>How long disposal waits for in-flight handlers to notice the cancellation.</summary>
    private static readonly TimeSpan DisposeGrace = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<ServedReply> _replies = [];
    private readonly List<Task> _inFlight = [];
    private readonly List<RecordedRequest> _unknown = [];
    private readonly List<Exception> _errors = [];
    private readonly CancellationTokenSource _stop = new();
    private HttpListener? _listener;
    private Task? _acceptLoop;
    private TaskCompletionSource _changed = NewSignal();
    private TaskCompletionSource<ServedReply> _nextAnswer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Every request received, in order (a snapshot).</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get { lock (_lock) { return [.. _requests]; } }
    }

    /// <summary>Every streamed answer (titles included, see <see cref="ServedReply.IsTitle"/>), in order of completion.</summary>
    public IReadOnlyList<ServedReply> Replies
    {
        get { lock (_lock) { return [.. _replies]; } }
    }

    /// <summary>Only the answers to user turns (no title requests).</summary>
    public IReadOnlyList<ServedReply> Answers
    {
        get { lock (_lock) { return [.. _replies.Where(r => !r.IsTitle)]; } }
    }

    /// <summary>Requests to paths this fake does not know (logged to find out what a new CLI version calls).</summary>
    public IReadOnlyList<RecordedRequest> UnknownRequests
    {
        get { lock (_lock) { return [.. _unknown]; } }
    }

    /// <summary>Exceptions thrown while answering (e.g. by a test's responder); such requests got a 500.</summary>
    public IReadOnlyList<Exception> Errors
    {
        get { lock (_lock) { return [.. _errors]; } }
    }

    /// <summary>Completes when the next user-turn answer has been fully sent (or broken); replaced after each.</summary>
    public Task<ServedReply> NextAnswerSent
    {
        get { lock (_lock) { return _nextAnswer.Task; } }
    }

    /// <summary>Stopwatch timestamp of the last byte of the last user-turn answer, 0 before any.</summary>
    public long LastAnswerByteTimestamp { get; private set; }

    protected CancellationToken Stopping => _stop.Token;

    protected async Task StartListeningAsync()
    {
        Exception? last = null;
        for (var attempt = 0; attempt < PortAttempts; attempt++)
        {
            var port = FreeLoopbackPort();
            var prefix = $"http://127.0.0.1:{port}/";
            var listener = new HttpListener();
            listener.Prefixes.Add(prefix);
            try
            {
                listener.Start();
            }
            catch (HttpListenerException ex)
            {
                last = ex;
                listener.Close();
                continue;
            }

            _listener = listener;
            BaseUrl = new Uri(prefix);
            _acceptLoop = Task.Run(AcceptLoopAsync);
            await Task.Yield();
            return;
        }

        throw new InvalidOperationException("could not bind a free loopback port", last);
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested || !listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }

            var task = Task.Run(() => ServeAsync(context));
            lock (_lock)
            {
                _inFlight.RemoveAll(t => t.IsCompleted);
                _inFlight.Add(task);
            }
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        try
        {
            var request = await RecordAsync(context.Request).ConfigureAwait(false);
            await HandleAsync(context, request, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            TryAbort(context.Response);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            TryAbort(context.Response);
        }
#pragma warning disable CA1031 // A fake must answer something whatever a test's responder throws.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            lock (_lock)
            {
                _errors.Add(ex);
            }

            try
            {
                await WriteJsonAsync(context, 500, """{"error":{"message":"fake server error","type":"server_error"}}""", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception inner) when (inner is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                TryAbort(context.Response);
            }
        }
    }

    private async Task<RecordedRequest> RecordAsync(HttpListenerRequest http)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in http.Headers.AllKeys)
        {
            if (key is not null)
            {
                headers[key] = http.Headers[key] ?? string.Empty;
            }
        }

        using var buffer = new MemoryStream();
        await http.InputStream.CopyToAsync(buffer, _stop.Token).ConfigureAwait(false);
        var bodyText = DecodeBody(buffer.ToArray(), http.Headers["Content-Encoding"]);
        JsonNode? body = null;
        if (bodyText.Length > 0)
        {
            try
            {
                body = JsonNode.Parse(bodyText);
            }
            catch (System.Text.Json.JsonException)
            {
                body = null;
            }
        }

        RecordedRequest request;
        lock (_lock)
        {
            request = new RecordedRequest(
                _requests.Count,
                DateTimeOffset.UtcNow,
                http.HttpMethod,
                http.Url?.AbsolutePath ?? "/",
                headers,
                bodyText,
                body);
            _requests.Add(request);
        }

        Pulse();
        return request;
    }

    private static string DecodeBody(byte[] bytes, string? encoding)
    {
        // Problem: a CLI may compress request bodies. Solution: undo what the BCL knows; zstd (not in
        // the BCL) is recorded as base64 so a test can at least see it happened.
        Stream? decoder = encoding?.Trim().ToLowerInvariant() switch
        {
            "gzip" => new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress),
            "deflate" => new ZLibStream(new MemoryStream(bytes), CompressionMode.Decompress),
            "br" => new BrotliStream(new MemoryStream(bytes), CompressionMode.Decompress),
            null or "" or "identity" => null,
            _ => Stream.Null,
        };
        if (decoder == Stream.Null)
        {
            return "base64:" + Convert.ToBase64String(bytes);
        }

        if (decoder is null)
        {
            return Encoding.UTF8.GetString(bytes);
        }

        using (decoder)
        using (var reader = new StreamReader(decoder, Encoding.UTF8))
        {
            return reader.ReadToEnd();
        }
    }

    /// <summary>Answer one request; the request is already recorded.</summary>
    protected abstract Task HandleAsync(HttpListenerContext context, RecordedRequest request, CancellationToken cancellationToken);

    protected void MarkUnknown(RecordedRequest request)
    {
        lock (_lock)
        {
            _unknown.Add(request);
        }
    }

    protected static async Task WriteJsonAsync(HttpListenerContext context, int status, string json, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        context.Response.Close();
    }

    /// <summary>
    /// Streams a scripted reply as chunked HTTP: <paramref name="prologue"/>, then one
    /// <paramref name="piece"/> per delta (paced by <see cref="FakeReply.Duration"/>), then
    /// <paramref name="epilogue"/>, honouring <see cref="FakeReply.Failure"/>. Records the outcome.
    /// </summary>
    protected async Task StreamReplyAsync(
        HttpListenerContext context,
        RecordedRequest request,
        FakeReply reply,
        bool isTitle,
        string contentType,
        IEnumerable<string> prologue,
        Func<string, int, string> piece,
        IEnumerable<string> epilogue,
        CancellationToken cancellationToken,
        IReadOnlyList<FakeToolCall>? toolCalls = null)
    {
        var start = Stopwatch.GetTimestamp();
        long firstByte = 0;
        long lastByte = 0;
        var outcome = ReplyOutcome.Completed;
        var response = context.Response;
        try
        {
            if (reply.FirstByteDelay > TimeSpan.Zero)
            {
                await Task.Delay(reply.FirstByteDelay, cancellationToken).ConfigureAwait(false);
            }

            switch (reply.Failure)
            {
                case FakeFailure.AbortBeforeResponse:
                    outcome = ReplyOutcome.Aborted;
                    response.Abort();
                    return;
                case FakeFailure.HttpError:
                    outcome = ReplyOutcome.Failed;
                    firstByte = Stopwatch.GetTimestamp();
                    var error = new JsonObject
                    {
                        ["error"] = new JsonObject { ["message"] = reply.Text, ["type"] = "fake_error", ["code"] = "fake_error" },
                    };
                    await WriteJsonAsync(context, reply.ErrorStatusCode, error.ToJsonString(), cancellationToken).ConfigureAwait(false);
                    return;
                default:
                    break;
            }

            response.StatusCode = 200;
            response.ContentType = contentType;
            response.SendChunked = true;
            response.Headers["Cache-Control"] = "no-cache";
            var output = response.OutputStream;

            async Task SendAsync(string text)
            {
                if (text.Length == 0)
                {
                    return; // e.g. the empty text piece of a reply that only calls tools
                }

                var bytes = Encoding.UTF8.GetBytes(text);
                await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                lastByte = Stopwatch.GetTimestamp();
                if (firstByte == 0)
                {
                    firstByte = lastByte;
                }
            }

            foreach (var text in prologue)
            {
                await SendAsync(text).ConfigureAwait(false);
            }

            var pieces = reply.SplitPieces();
            var gap = pieces.Count > 1 ? reply.Duration / pieces.Count : reply.Duration;
            for (var i = 0; i < pieces.Count; i++)
            {
                if (reply.Failure == FakeFailure.AbortMidStream && i >= reply.PiecesBeforeAbort)
                {
                    outcome = ReplyOutcome.Aborted;
                    response.Abort();
                    return;
                }

                if (gap > TimeSpan.Zero && i > 0)
                {
                    await Task.Delay(gap, cancellationToken).ConfigureAwait(false);
                }

                await SendAsync(piece(pieces[i], i)).ConfigureAwait(false);
            }

            if (reply.Failure == FakeFailure.AbortMidStream)
            {
                outcome = ReplyOutcome.Aborted;
                response.Abort();
                return;
            }

            foreach (var text in epilogue)
            {
                await SendAsync(text).ConfigureAwait(false);
            }

            response.Close();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = ReplyOutcome.ServerStopped;
            TryAbort(response);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            outcome = ReplyOutcome.ClientDisconnected;
            TryAbort(response);
        }
        finally
        {
            // The last byte is the last flushed event; closing the response can take a while after it.
            var end = lastByte != 0 ? lastByte : Stopwatch.GetTimestamp();
            Complete(new ServedReply(request, isTitle, reply.Text, outcome, start, firstByte == 0 ? end : firstByte, end, DateTimeOffset.UtcNow) { ToolCalls = toolCalls ?? [] });
        }
    }

    private void Complete(ServedReply served)
    {
        TaskCompletionSource<ServedReply>? finished = null;
        lock (_lock)
        {
            _replies.Add(served);
            if (!served.IsTitle)
            {
                LastAnswerByteTimestamp = served.LastByteTimestamp;
                finished = _nextAnswer;
                _nextAnswer = new TaskCompletionSource<ServedReply>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        finished?.TrySetResult(served);
        Pulse();
    }

    private static void TryAbort(HttpListenerResponse response)
    {
        try
        {
            response.Abort();
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>Waits until a request matching <paramref name="predicate"/> has arrived (bounded).</summary>
    public Task<RecordedRequest> WaitForRequestAsync(Func<RecordedRequest, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => Requests.FirstOrDefault(predicate), timeout, "a matching request", cancellationToken);

    /// <summary>Waits until the <paramref name="count"/>-th user-turn answer (1-based, titles not counted) has been sent or broken.</summary>
    public Task<ServedReply> WaitForAnswersAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => Answers.ElementAtOrDefault(count - 1), timeout, $"answer #{count}", cancellationToken);

    protected async Task<T> WaitUntilAsync<T>(Func<T?> probe, TimeSpan timeout, string what, CancellationToken cancellationToken)
        where T : class
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            if (probe() is { } found)
            {
                return found;
            }

            try
            {
                await changed.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{GetType().Name}: no {what} within {timeout.TotalSeconds:0.#} s; requests seen: "
                    + string.Join(", ", Requests.Select(r => r.Method + " " + r.Path)));
            }
        }
    }

    private void Pulse()
    {
        TaskCompletionSource old;
        lock (_lock)
        {
            old = _changed;
            _changed = NewSignal();
        }

        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            _listener?.Stop();
            _listener?.Close();
        }
        catch (ObjectDisposedException)
        {
        }

        Task[] pending;
        lock (_lock)
        {
            pending = [.. _inFlight];
        }

        if (_acceptLoop is not null)
        {
            pending = [.. pending, _acceptLoop];
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(DisposeGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A handler stuck in a socket write; the listener is closed, nothing else to do.
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
