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
    public void Broadcast<T>(string method, T parameters, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        foreach (var c in _clients.Values)
        {
            if (c.Connection.State == ConnectionState.Initialized)
            {
                c.Connection.Notify(method, parameters, info);
            }
        }
    }
}

internal sealed class ClientState(JsonRpcConnection connection)
{
    public JsonRpcConnection Connection { get; } = connection;

    public ConcurrentDictionary<string, Attachment> Attachments { get; } = new(StringComparer.Ordinal);
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

    private readonly JsonRpcConnection _connection;
    private readonly JsonEncodedText _attachId;
    private readonly Action<Utf8JsonWriter, StoredEvent> _write;
    private readonly byte[] _tsUtf8 = new byte[32];
    private string? _sessionId;
    private JsonEncodedText _sessionIdText;
    private long _ts = long.MinValue;
    private int _tsLength;

    public ConnectionEventSink(JsonRpcConnection connection, string attachId)
    {
        _connection = connection;
        _attachId = JsonEncodedText.Encode(attachId);
        _write = Write;
    }

    public async ValueTask<int> DeliverAsync(IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken)
    {
        // Problem: a replay of 1,000,000 small events spent a third of its time here, per event:
        // an await for room, a closure, a JSON writer, a timestamp string, a queue entry.
        // Solution: room is checked per batch (the queue may pass its high-water mark by at most
        // one batch), a batch is framed into one buffer, and the per-event values that repeat
        // (attach id, session id, the timestamp of the same millisecond) are encoded once.
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

            if (!_connection.SendMany(events, delivered, n, _write))
            {
                return delivered;
            }

            delivered += n;
        }

        return delivered;
    }

    private void Write(Utf8JsonWriter w, StoredEvent e)
    {
        if (!ReferenceEquals(e.SessionId, _sessionId))
        {
            _sessionId = e.SessionId;
            _sessionIdText = JsonEncodedText.Encode(e.SessionId);
        }

        if (e.Ts != _ts)
        {
            _ts = e.Ts;
            Encoding.UTF8.TryGetBytes(WireMapper.Ts(e.Ts), _tsUtf8, out _tsLength);
        }

        w.WriteStartObject();
        w.WriteString("jsonrpc"u8, "2.0"u8);
        w.WriteString("method"u8, Notifications.SessionEvent);
        w.WriteStartObject("params"u8);
        w.WriteString("attachId"u8, _attachId);
        w.WriteStartObject("event"u8);
        w.WriteString("sessionId"u8, _sessionIdText);
        w.WriteNumber("seq"u8, e.Seq);
        w.WriteString("ts"u8, _tsUtf8.AsSpan(0, _tsLength));
        w.WriteString("channel"u8, e.Channel);
        w.WriteString("type"u8, e.Type);
        if (e.WorkerId is not null)
        {
            w.WriteString("workerId"u8, e.WorkerId);
        }

        w.WritePropertyName("data"u8);
        w.WriteRawValue(e.Data, skipInputValidation: true);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
