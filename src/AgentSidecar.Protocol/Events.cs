using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentSidecar.Protocol;

public static class Channels
{
    public const string Pty = "pty";
    public const string Chat = "chat";
    public const string System = "system";
    public const string Metrics = "metrics";
}

/// <summary>
/// A JSON value kept as its UTF-8 text. Event payloads are stored as JSON in SQLite and copied to
/// the wire as they are: replaying a million events must not parse and re-serialise each one.
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public readonly struct RawJson(ReadOnlyMemory<byte> utf8)
{
    public static readonly RawJson EmptyObject = new("{}"u8.ToArray());

    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;

    public JsonElement Parse() => JsonDocument.Parse(Utf8).RootElement.Clone();

    public override string ToString() => System.Text.Encoding.UTF8.GetString(Utf8.Span);
}

public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return new RawJson(JsonSerializer.SerializeToUtf8Bytes(doc.RootElement, ProtocolJsonContext.Default.JsonElement));
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options)
    {
        if (value.Utf8.IsEmpty)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
            return;
        }

        writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
    }
}

/// <summary>One event of a session's log: <c>{sessionId, seq, ts, channel, type, workerId?, data}</c>.</summary>
public sealed record EventRecord
{
    public required string SessionId { get; init; }

    public long Seq { get; init; }

    public required string Ts { get; init; }

    public required string Channel { get; init; }

    public required string Type { get; init; }

    public string? WorkerId { get; init; }

    public RawJson Data { get; init; }
}

public sealed record SessionEventParams
{
    public required string AttachId { get; init; }

    public required EventRecord Event { get; init; }
}
