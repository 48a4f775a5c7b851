using System.Buffers;
using System.Text.Json;
using AgentSidecar.Protocol;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace AgentSidecar.Rpc;

/// <summary>What one received frame asks for: a request for StreamJsonRpc to dispatch, an error to answer at once, or nothing.</summary>
/// <param name="RawId">The message's id as the client wrote it (raw JSON; null when it has none or it is unusable): errors are answered with it.</param>
internal readonly record struct IncomingMessage(JsonRpcRequest? Request, string? RawId, RpcException? Error)
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private static IncomingMessage Ignored => default;

    private static IncomingMessage Fail(string? id, int code, string message) => new(null, id, new RpcException(code, message));

    private static IncomingMessage Fail(string? id, RpcException error) => new(null, id, error);

    /// <summary>
    /// Checks a body against JSON-RPC 2.0 and protocol v1's lifecycle and reads its params with the
    /// method's record. Why not StreamJsonRpc's own reading: it ends the connection on the first body
    /// that is not JSON, and protocol v1 answers it (-32700, -32600, -32002) and goes on.
    /// </summary>
    public static IncomingMessage Read(ReadOnlySequence<byte> body, MethodTable methods, ConnectionState state)
    {
        if (!(body.IsSingleSegment ? System.Text.Unicode.Utf8.IsValid(body.FirstSpan) : System.Text.Unicode.Utf8.IsValid(body.ToArray())))
        {
            return Fail(null, ErrorCodes.ParseError, "parse error: the body is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return Fail(null, ErrorCodes.ParseError, $"parse error: the body is not valid JSON ({Shorten(ex.Message)})");
        }

        using (doc)
        {
            try
            {
                return Read(doc.RootElement, methods, state);
            }
            catch (InvalidOperationException ex)
            {
                // Valid JSON whose names or strings escape a lone surrogate ("\ud800") throws when
                // read (found by fuzzing): it is not readable text, so it is a parse error.
                return Fail(null, ErrorCodes.ParseError, $"parse error: the message has an escape that is not valid UTF-16 ({Shorten(ex.Message)})");
            }
        }
    }

    private static IncomingMessage Read(JsonElement root, MethodTable methods, ConnectionState state)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Fail(null, ErrorCodes.InvalidRequest, root.ValueKind == JsonValueKind.Array
                ? "invalid request: batches are not supported; send one message per frame"
                : "invalid request: a message must be a JSON object");
        }

        var id = RequestId.NotSpecified;
        string? errorId = null;
        if (root.TryGetProperty("id", out var idElement))
        {
            if (idElement.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
            {
                return Fail(null, ErrorCodes.InvalidRequest, "invalid request: 'id' must be a number or a string");
            }

            errorId = idElement.GetRawText();
            id = ToRequestId(idElement) ?? RequestId.NotSpecified;
        }

        if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || !version.ValueEquals("2.0"u8))
        {
            return Fail(errorId, ErrorCodes.InvalidRequest, "invalid request: 'jsonrpc' must be \"2.0\"");
        }

        if (!root.TryGetProperty("method", out var methodElement))
        {
            // A response to a request this side never sends: ignored.
            return root.TryGetProperty("result", out _) || root.TryGetProperty("error", out _)
                ? Ignored
                : Fail(errorId, ErrorCodes.InvalidRequest, "invalid request: 'method' is missing");
        }

        if (methodElement.ValueKind != JsonValueKind.String || methodElement.GetString() is not { Length: > 0 } method)
        {
            return Fail(errorId, ErrorCodes.InvalidRequest, "invalid request: 'method' must be a non-empty string");
        }

        JsonElement? paramsElement = null;
        if (root.TryGetProperty("params", out var p))
        {
            if (p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
            {
                return Fail(errorId, ErrorCodes.InvalidRequest, "invalid request: 'params' must be an object");
            }

            paramsElement = p;
        }

        if (method == Methods.CancelRequest)
        {
            // StreamJsonRpc's cancellation strategy takes it from here (the handler's token is cancelled).
            return paramsElement is { ValueKind: JsonValueKind.Object } cp && cp.TryGetProperty("id", out var cancelId) && ToRequestId(cancelId) is { } target
                ? new IncomingMessage(new JsonRpcRequest { Method = method, NamedArguments = new Dictionary<string, object?> { ["id"] = target } }, null, null)
                : Ignored;
        }

        var binding = methods.Find(method);
        if (state == ConnectionState.New && !(binding is not null && MethodTable.AllowedBeforeInitialize(method)))
        {
            return Fail(errorId, ErrorCodes.ServerNotInitialized, $"'{method}' before 'initialize': send 'initialize' first");
        }

        if (state == ConnectionState.ShutdownRequested && method != Methods.Exit)
        {
            return Fail(errorId, ErrorCodes.InvalidRequest, $"'{method}' after 'shutdown': only 'exit' is accepted now");
        }

        if (binding is null)
        {
            // Optional notifications may be ignored (as in LSP).
            return errorId is null && method.StartsWith("$/", StringComparison.Ordinal)
                ? Ignored
                : Fail(errorId, ErrorCodes.MethodNotFound, $"method not found: '{method}'");
        }

        if (errorId is not null && id.IsEmpty)
        {
            // JSON-RPC allows any number; the dispatcher (StreamJsonRpc's RequestId) takes integers and strings.
            return Fail(errorId, ErrorCodes.InvalidRequest, "invalid request: 'id' must be a string or an integer (64-bit)");
        }

        object parsed;
        try
        {
            parsed = binding.Parse(paramsElement);
        }
        catch (RpcException ex)
        {
            return Fail(errorId, ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A params record whose own check failed in a way it did not mean to: answered, never
            // a reason to end the connection.
            return Fail(errorId, ErrorCodes.InternalError, $"internal error: {Shorten(ex.Message)}");
        }

        return new IncomingMessage(new JsonRpcRequest { RequestId = id, Method = method, ArgumentsList = [parsed] }, errorId, null);
    }

    private static RequestId? ToRequestId(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => new RequestId(e.GetString()),
        JsonValueKind.Number when e.TryGetInt64(out var n) => new RequestId(n),
        _ => null,
    };

    private static string Shorten(string s) => s.Length > 160 ? s[..160] + "…" : s;
}
