using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSidecar.Faults.Tests;

/// <summary>What the protocol (docs/protocol.md) says the sidecar must answer to one well-framed body.</summary>
internal sealed record Expectation(string? Id, int[]? Codes, bool Answered)
{
    /// <summary>No answer at all (a notification, or a response the sidecar ignores).</summary>
    public static readonly Expectation None = new(null, null, false);

    /// <summary>A notification of a known method: no answer, or -32602 with id null if its params are wrong.</summary>
    public static readonly Expectation Notification = new(null, [-32602], false);

    public bool MayGetInvalidParams => this == Notification;

    /// <summary>Any result or error, except -32603 (internal error) and -32700.</summary>
    public static readonly int[] AnyButInternal = [];
}

/// <summary>
/// Generates fuzzed frame bodies from valid messages (byte and structural mutations, invalid JSON and
/// UTF-8, huge numbers and strings, deep nesting, wrong types) and classifies each by the rules of
/// docs/protocol.md, so the test knows which answer every one must get.
/// </summary>
internal sealed class FuzzFrames(int seed, string sessionId, string workerId)
{
    /// <summary>The parser's nesting limit: deeper JSON is treated as unparseable (-32700).</summary>
    private const int MaxDepth = 64;
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = MaxDepth };
    private const string Syntax = "{}[]\",:\\0-e.";
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private readonly Random _random = new(seed);
    private long _nextId;

    public Dictionary<string, int> Kinds { get; } = [];

    private JsonObject Template(long id)
    {
        var fake = "0123456789abcdef0123456789abcdef";
        (string Method, JsonObject Params)[] templates =
        [
            ("provider/list", new JsonObject()),
            ("session/list", new JsonObject { ["limit"] = 5, ["status"] = new JsonArray("active", "completed"), ["workspace"] = "/tmp" }),
            ("session/get", new JsonObject { ["sessionId"] = sessionId }),
            ("session/get", new JsonObject { ["sessionId"] = fake }),
            ("session/events", new JsonObject { ["sessionId"] = sessionId, ["afterSeq"] = 0, ["limit"] = 3, ["channels"] = new JsonArray("system") }),
            ("session/attach", new JsonObject { ["sessionId"] = fake, ["afterSeq"] = 0 }),
            ("session/detach", new JsonObject { ["attachId"] = "a999999" }),
            ("session/end", new JsonObject { ["sessionId"] = fake }),
            ("session/delete", new JsonObject { ["sessionId"] = fake }),
            ("session/start", new JsonObject { ["workspace"] = "/nonexistent/fuzz", ["provider"] = "shell", ["cols"] = 80, ["rows"] = 24 }),
            ("session/clear", new JsonObject { ["sessionId"] = sessionId }),
            ("worker/input", new JsonObject { ["workerId"] = workerId, ["data"] = "abc\u00e9" }),
            ("worker/resize", new JsonObject { ["workerId"] = workerId, ["cols"] = 80, ["rows"] = 24 }),
            ("worker/screen", new JsonObject { ["workerId"] = workerId }),
            ("worker/list", new JsonObject { ["sessionId"] = sessionId }),
            ("worker/stop", new JsonObject { ["workerId"] = fake }),
            ("worker/start", new JsonObject { ["sessionId"] = fake, ["command"] = "true" }),
            ("chat/send", new JsonObject { ["sessionId"] = sessionId, ["text"] = "hello" }),
            ("chat/cancel", new JsonObject { ["sessionId"] = fake }),
            ("chat/history", new JsonObject { ["sessionId"] = sessionId, ["limit"] = 2 }),
            ("metrics/status", new JsonObject()),
            ("$/cancelRequest", new JsonObject { ["id"] = id - 3 }),
            ("no/such-method", new JsonObject { ["x"] = 1 }),
        ];
        var (method, parameters) = templates[_random.Next(templates.Length)];
        return new JsonObject { ["jsonrpc"] = "2.0", ["id"] = _random.Next(4) == 0 ? JsonValue.Create($"s{id}") : JsonValue.Create(id), ["method"] = method, ["params"] = parameters };
    }

    public byte[] Next()
    {
        var id = ++_nextId;
        var message = Template(id);
        var roll = _random.Next(100);
        string kind;
        byte[] body;
        switch (roll)
        {
            case < 15:
                kind = "valid";
                body = Utf8(message.ToJsonString());
                break;
            case < 40:
                kind = "bytes";
                body = MutateBytes(Utf8(message.ToJsonString()));
                break;
            case < 70:
                kind = "value";
                ReplaceRandomValue(message);
                body = Utf8(message.ToJsonString());
                break;
            case < 75:
                kind = "garbage";
                body = new byte[_random.Next(0, 200)];
                _random.NextBytes(body);
                break;
            case < 80:
                kind = "not-an-object";
                body = Utf8(_random.Next(5) switch { 0 => "[" + message.ToJsonString() + "]", 1 => "42", 2 => "\"x\"", 3 => "null", _ => "[]" });
                break;
            case < 85:
                kind = "id";
                message["id"] = Nasty();
                body = Utf8(message.ToJsonString());
                break;
            case < 88:
                kind = "envelope";
                message.Remove(_random.Next(3) switch { 0 => "jsonrpc", 1 => "method", _ => "params" });
                if (_random.Next(2) == 0)
                {
                    message["jsonrpc"] = Nasty();
                }

                body = Utf8(message.ToJsonString());
                break;
            case < 91:
                kind = "utf8";
                body = BreakUtf8(Utf8(message.ToJsonString()));
                break;
            case < 94:
                kind = "escape";
                body = Utf8(message.ToJsonString().Replace("\"params\"", "\"par\\ud800ams\"", StringComparison.Ordinal)
                    .Replace("abc", "a\\udc00\\u0000c", StringComparison.Ordinal)
                    .Replace("/list", _random.Next(2) == 0 ? "/list\\ud83d" : "/li\\u0073t", StringComparison.Ordinal));
                break;
            case < 97:
                kind = "truncated";
                var text = Utf8(message.ToJsonString());
                body = text[.._random.Next(text.Length)];
                break;
            default:
                kind = "duplicate-keys";
                body = Utf8(message.ToJsonString().TrimEnd('}') + ",\"method\":\"provider/list\",\"id\":" + id.ToString(CultureInfo.InvariantCulture) + "}");
                break;
        }

        Kinds[kind] = Kinds.GetValueOrDefault(kind) + 1;
        return body;
    }

    /// <summary>The protocol's rules for one body (docs/protocol.md, "Errors"), in the order they apply.</summary>
    public static Expectation Classify(byte[] body)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return new Expectation(null, [-32700], true);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, ParseOptions);
        }
        catch (JsonException)
        {
            return new Expectation(null, [-32700], true);
        }

        using (doc)
        {
            try
            {
                return ClassifyDocument(doc.RootElement);
            }
            catch (InvalidOperationException)
            {
                // Valid JSON whose envelope names or strings hold escapes that are not valid UTF-16
                // (a lone surrogate): not readable text, so a parse error.
                return new Expectation(null, [-32700], true);
            }
        }
    }

    private static Expectation ClassifyDocument(JsonElement root)
    {
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new Expectation(null, [-32600], true);
            }

            string? id = null;
            if (root.TryGetProperty("id", out var idElement))
            {
                if (idElement.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
                {
                    return new Expectation(null, [-32600], true);
                }

                id = IdKey(idElement);
            }

            if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || !TryString(version, out var v) || v != "2.0")
            {
                return new Expectation(id, [-32600], true);
            }

            if (!root.TryGetProperty("method", out var methodElement))
            {
                return root.TryGetProperty("result", out _) || root.TryGetProperty("error", out _)
                    ? Expectation.None
                    : new Expectation(id, [-32600], true);
            }

            if (methodElement.ValueKind != JsonValueKind.String || !TryString(methodElement, out var method) || method.Length == 0)
            {
                return new Expectation(id, [-32600], true);
            }

            if (root.TryGetProperty("params", out var p) && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
            {
                return new Expectation(id, [-32600], true);
            }

            if (method == "$/cancelRequest")
            {
                return Expectation.None;
            }

            if (!KnownMethods.Contains(method))
            {
                return id is null && method.StartsWith("$/", StringComparison.Ordinal) ? Expectation.None : new Expectation(id, [-32601], true);
            }

            // A known method: a request gets a result or a documented error; a notification nothing,
            // or -32602 (id null) if its params are wrong (see Expectation.MayGetInvalidParams).
            return id is null ? Expectation.Notification : new Expectation(id, Expectation.AnyButInternal, true);
        }
    }

    /// <summary>
    /// An id by its JSON value, not its spelling: an answer may escape a string id differently
    /// ("s>1" and "s\u003E1" are the same id).
    /// </summary>
    public static string IdKey(JsonElement id) =>
        id.ValueKind == JsonValueKind.String ? JsonSerializer.Serialize(id.GetString()) : id.GetRawText();

    private static readonly HashSet<string> KnownMethods = new(StringComparer.Ordinal)
    {
        "initialize", "initialized", "shutdown", "exit", "provider/list", "session/start", "session/list", "session/get", "session/end",
        "session/delete", "session/attach", "session/detach", "session/events", "session/clear", "worker/start", "worker/list", "worker/stop",
        "worker/input", "worker/resize", "worker/screen", "chat/send", "chat/cancel", "chat/history", "metrics/status", "metrics/flush",
    };

    /// <summary>GetString throws for escapes that are not valid UTF-16; Classify answers -32700 for those.</summary>
    private static bool TryString(JsonElement e, out string value)
    {
        value = e.GetString()!;
        return true;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private byte[] MutateBytes(byte[] body)
    {
        var list = body.ToList();
        for (var n = _random.Next(1, 5); n > 0 && list.Count > 0; n--)
        {
            var at = _random.Next(list.Count);
            switch (_random.Next(5))
            {
                case 0:
                    list[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1:
                    list.Insert(at, (byte)_random.Next(256));
                    break;
                case 2:
                    list.RemoveRange(at, Math.Min(list.Count - at, _random.Next(1, 8)));
                    break;
                case 3:
                    list.Insert(at, (byte)Syntax[_random.Next(Syntax.Length)]);
                    break;
                default:
                    list.InsertRange(at, list.Skip(_random.Next(list.Count)).Take(_random.Next(1, 16)).ToList());
                    break;
            }
        }

        return [.. list];
    }

    private byte[] BreakUtf8(byte[] body)
    {
        var list = body.ToList();
        byte[][] bad = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0x80]];
        list.InsertRange(_random.Next(list.Count), bad[_random.Next(bad.Length)]);
        return [.. list];
    }

    /// <summary>Replaces the params, one param, or adds one, with a value of a nasty kind.</summary>
    private void ReplaceRandomValue(JsonObject message)
    {
        if (message["params"] is not JsonObject parameters || _random.Next(6) == 0)
        {
            message["params"] = Nasty();
            return;
        }

        var keys = parameters.Select(kv => kv.Key).ToList();
        var key = keys.Count > 0 && _random.Next(4) != 0 ? keys[_random.Next(keys.Count)] : "extra" + _random.Next(3);
        if (_random.Next(8) == 0)
        {
            parameters.Remove(key);
        }
        else
        {
            parameters[key] = Nasty();
        }
    }

    private JsonNode? Nasty()
    {
        switch (_random.Next(16))
        {
            case 0: return null;
            case 1: return JsonValue.Create(_random.Next(2) == 0);
            case 2: return JsonValue.Create(-_random.Next(1, 1000));
            case 3: return JsonNode.Parse("1" + new string('0', _random.Next(20, 400)));
            case 4: return JsonNode.Parse(_random.Next(3) switch { 0 => "1e309", 1 => "-1e-400", _ => "9223372036854775808" });
            case 5: return JsonValue.Create(new string('x', _random.Next(10_000, 100_000)));
            case 6: return JsonValue.Create(long.MaxValue);
            case 7: return JsonValue.Create(3.5);
            case 8: return new JsonArray();
            case 9: return new JsonObject { ["nested"] = new JsonObject() };
            case 10: return JsonNode.Parse(Deep(_random.Next(2, 63)));
            case 11: return JsonValue.Create("\u0000\u001b[31m\r\n");
            case 12: return JsonValue.Create(string.Empty);
            case 13: return JsonValue.Create(_random.Next(10) == 0 ? new string('é', 100_000) : "a\u20ac\U0001F600");
            case 14: return new JsonArray(1, "two", null, new JsonObject());
            default: return JsonValue.Create(int.MinValue);
        }
    }

    /// <summary>Nesting at most <paramref name="depth"/> levels (more is tested as raw text elsewhere).</summary>
    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>A body nested deeper than the parser accepts.</summary>
    public static byte[] TooDeep(long id, int depth) =>
        Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"session/list\",\"params\":{{\"x\":{new string('[', depth)}{new string(']', depth)}}}}}");
}
