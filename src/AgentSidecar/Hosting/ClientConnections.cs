using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using AgentSidecar.Core.Events;
using AgentSidecar.Handlers;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;
using AgentSidecar.Store;

namespace AgentSidecar.Hosting;

/// <summary>Every connected client, for broadcasts, and the attachments each one holds.</summary>
internal sealed class ClientConnections
{
    private readonly ConcurrentDictionary<long, ClientState> _clients = new();

    public void Add(JsonRpcConnection connection) => _clients[connection.Id] = new ClientState(connection);

    public ClientState? Get(JsonRpcConnection connection) => _clients.GetValueOrDefault(connection.Id);

    /// <summary>Clients connected now (one that is closing no longer counts).</summary>
    public int Connected => _clients.Values.Count(c => c.Connection.State != ConnectionState.Closed);

    /// <summary>Attachments all clients hold now.</summary>
    public int TotalAttachments => _clients.Values.Sum(c => c.Attachments.Count);

    /// <summary>Removes the client and ends its attachments.</summary>
    public void Remove(JsonRpcConnection connection)
    {
        if (_clients.TryRemove(connection.Id, out var state))
        {
            foreach (var a in state.Attachments.Values)
            {
                a.Stop(DetachReasons.Closed);
            }
        }
    }

    /// <summary>Sends a notification to every initialized client.</summary>
    public void Broadcast<T>(string method, T parameters)
    {
        foreach (var c in _clients.Values)
        {
            if (c.Connection.State == ConnectionState.Initialized)
            {
                c.Connection.Notify(method, parameters);
            }
        }
    }
}

internal sealed class ClientState(JsonRpcConnection connection)
{
    public JsonRpcConnection Connection { get; } = connection;

    public ConcurrentDictionary<string, Attachment> Attachments { get; } = new(StringComparer.Ordinal);

    /// <summary>A socket client's own <c>initializationOptions.defaultProvider</c>.</summary>
    public string? DefaultProvider { get; set; }
}

/// <summary>
/// Turns an attachment's events into <c>session/event</c> notifications on one connection. The
/// event payload is copied as stored (raw JSON), never re-serialised.
/// </summary>
internal sealed class ConnectionEventSink : IEventSink
{
    /// <summary>Events framed into one queued buffer: up to this many, or this many data bytes.</summary>
    private const int BatchEvents = 256;

    private const int BatchBytes = 64 * 1024;

    private static readonly System.Text.Encodings.Web.JavaScriptEncoder Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private readonly JsonRpcConnection _connection;

    /// <summary><c>{"jsonrpc":"2.0","method":"session/event","params":{"attachId":"…","event":{"sessionId":</c></summary>
    private readonly byte[] _prefix;
    private readonly Func<StoredEvent, int> _length;
    private readonly System.Buffers.SpanAction<byte, StoredEvent> _write;

    /// <summary>Quoted, escaped JSON strings of the session ids, channels, types and worker ids seen.</summary>
    private readonly Dictionary<string, byte[]> _encoded = new(StringComparer.Ordinal);
    private (string? Value, byte[] Bytes) _lastSession, _lastChannel, _lastType, _lastWorker;
    private readonly byte[] _ts = new byte[32];
    private long _tsValue = long.MinValue;
    private int _tsLength;

    public ConnectionEventSink(JsonRpcConnection connection, string attachId)
    {
        _connection = connection;
        _prefix = Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"method\":{Quote(Notifications.SessionEvent)},\"params\":{{\"attachId\":{Quote(attachId)},\"event\":{{\"sessionId\":");
        _length = Length;
        _write = Write;
    }

    public async ValueTask<int> DeliverAsync(IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken)
    {
        // Problem: a replay of 1,000,000 small events spent a third of its time here, per event:
        // an await for room, a closure, a JSON writer, a timestamp string, a queue entry.
        // Solution: room is checked per batch (the queue may pass its high-water mark by at most
        // one batch), a batch is written into one buffer, and each event is assembled from
        // pre-encoded parts (the envelope, the attach and session ids, channel, type, worker id,
        // the timestamp of the same millisecond) around its stored data.
        var delivered = 0;
        while (delivered < events.Count)
        {
            if (!await _connection.WaitForRoomAsync(cancellationToken).ConfigureAwait(false))
            {
                return delivered;
            }

            var n = 0;
            long bytes = 0;
            while (delivered + n < events.Count && n < BatchEvents && bytes < BatchBytes)
            {
                bytes += events[delivered + n].Data.Length;
                n++;
            }

            if (!await _connection.SendManyAsync(events, delivered, n, _length, _write).ConfigureAwait(false))
            {
                return delivered;
            }

            delivered += n;
        }

        return delivered;
    }

    /// <summary>A JSON string literal, quoted and escaped.</summary>
    private static string Quote(string value) => $"\"{JsonEncodedText.Encode(value, Encoder)}\"";

    /// <summary>
    /// <see cref="Encoded(string)"/> through a one-entry cache per field: consecutive events nearly
    /// always share the session, channel, type and worker strings (the store reuses the previous
    /// row's string objects), and a reference check costs less than hashing the string.
    /// </summary>
    private byte[] Encoded(string value, ref (string? Value, byte[] Bytes) last)
    {
        if (!ReferenceEquals(last.Value, value))
        {
            last = (value, Encoded(value));
        }

        return last.Bytes;
    }

    private byte[] Encoded(string value)
    {
        if (!_encoded.TryGetValue(value, out var bytes))
        {
            if (_encoded.Count > 1024)
            {
                _encoded.Clear();
            }

            bytes = Encoding.UTF8.GetBytes(Quote(value));
            _encoded[value] = bytes;
        }

        return bytes;
    }

    private ReadOnlySpan<byte> Ts(long ts)
    {
        if (ts != _tsValue)
        {
            _tsValue = ts;
            WireMapper.TryFormatTs(ts, _ts, out _tsLength);
        }

        return _ts.AsSpan(0, _tsLength);
    }

    // {prefix}"S","seq":N,"ts":"T","channel":"C","type":"Y"[,"workerId":"W"],"data":D}}}
    private int Length(StoredEvent e)
    {
        System.Buffers.Text.Utf8Formatter.TryFormat(e.Seq, stackalloc byte[20], out var digits);
        var n = _prefix.Length + Encoded(e.SessionId, ref _lastSession).Length + ",\"seq\":"u8.Length + digits
            + ",\"ts\":\""u8.Length + Ts(e.Ts).Length + 1
            + ",\"channel\":"u8.Length + Encoded(e.Channel, ref _lastChannel).Length
            + ",\"type\":"u8.Length + Encoded(e.Type, ref _lastType).Length
            + ",\"data\":"u8.Length + e.Data.Length + 3;
        return e.WorkerId is null ? n : n + ",\"workerId\":"u8.Length + Encoded(e.WorkerId, ref _lastWorker).Length;
    }

    private void Write(Span<byte> span, StoredEvent e)
    {
        var pos = 0;
        void Put(Span<byte> span, ReadOnlySpan<byte> part, ref int pos)
        {
            part.CopyTo(span[pos..]);
            pos += part.Length;
        }

        Put(span, _prefix, ref pos);
        Put(span, Encoded(e.SessionId, ref _lastSession), ref pos);
        Put(span, ",\"seq\":"u8, ref pos);
        System.Buffers.Text.Utf8Formatter.TryFormat(e.Seq, span[pos..], out var digits);
        pos += digits;
        Put(span, ",\"ts\":\""u8, ref pos);
        Put(span, Ts(e.Ts), ref pos);
        Put(span, "\""u8, ref pos);
        Put(span, ",\"channel\":"u8, ref pos);
        Put(span, Encoded(e.Channel, ref _lastChannel), ref pos);
        Put(span, ",\"type\":"u8, ref pos);
        Put(span, Encoded(e.Type, ref _lastType), ref pos);
        if (e.WorkerId is not null)
        {
            Put(span, ",\"workerId\":"u8, ref pos);
            Put(span, Encoded(e.WorkerId, ref _lastWorker), ref pos);
        }

        Put(span, ",\"data\":"u8, ref pos);
        Put(span, e.Data, ref pos);
        Put(span, "}}}"u8, ref pos);
        if (pos != span.Length)
        {
            throw new InvalidOperationException($"session/event framing: wrote {pos} bytes of {span.Length}");
        }
    }
}
