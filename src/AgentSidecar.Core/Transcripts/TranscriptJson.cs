using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AgentSidecar.Core.Transcripts;

/// <summary>Tolerant accessors: a field of the wrong kind reads as missing instead of throwing.</summary>
internal static class TranscriptJson
{
    internal static readonly JsonDocumentOptions Options = new() { MaxDepth = 256 };

    public static JsonElement Prop(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

    public static string? Str(this JsonElement e, string name)
    {
        var v = e.Prop(name);
        return v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    public static long? Long(this JsonElement e, string name)
    {
        var v = e.Prop(name);
        if (v.ValueKind != JsonValueKind.Number)
        {
            return null;
        }
        return v.TryGetInt64(out long l) ? l : (long)v.GetDouble();
    }

    public static bool? Bool(this JsonElement e, string name) => e.Prop(name).ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>The elements of an array property; none when it is missing or not an array.</summary>
    public static IEnumerable<JsonElement> Items(this JsonElement e, string name)
    {
        var v = e.Prop(name);
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];
    }

    public static DateTimeOffset? Time(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUniversalTime()
            : null;

    public static DateTimeOffset? UnixMs(long? ms) =>
        ms is { } v && v > 0 && v < 253402300799999 ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;

    /// <summary>Joins the non-empty pieces with a newline; null when there are none.</summary>
    public static string? JoinText(IEnumerable<string?> pieces)
    {
        StringBuilder? sb = null;
        foreach (var p in pieces)
        {
            if (string.IsNullOrEmpty(p))
            {
                continue;
            }
            if (sb is null)
            {
                sb = new StringBuilder(p);
            }
            else
            {
                sb.Append('\n').Append(p);
            }
        }
        return sb?.ToString();
    }

    /// <summary>FNV-1a: a stable 64-bit fingerprint of a line, to recognise it after a rewrite.</summary>
    public static ulong Fingerprint(ReadOnlySpan<byte> bytes)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in bytes)
        {
            h = (h ^ b) * 1099511628211UL;
        }
        return h;
    }
}
