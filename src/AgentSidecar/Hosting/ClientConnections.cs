using System.Collections.Concurrent;
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
internal sealed class ConnectionEventSink(JsonRpcConnection connection, string attachId) : IEventSink
{
    public async ValueTask<int> DeliverAsync(IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken)
    {
        var delivered = 0;
        foreach (var e in events)
        {
            if (!await connection.WaitForRoomAsync(cancellationToken).ConfigureAwait(false))
            {
                return delivered;
            }

            var sent = connection.Send(w =>
            {
                w.WriteStartObject();
                w.WriteString("jsonrpc"u8, "2.0"u8);
                w.WriteString("method"u8, Notifications.SessionEvent);
                w.WriteStartObject("params"u8);
                w.WriteString("attachId"u8, attachId);
                w.WriteStartObject("event"u8);
                w.WriteString("sessionId"u8, e.SessionId);
                w.WriteNumber("seq"u8, e.Seq);
                w.WriteString("ts"u8, WireMapper.Ts(e.Ts));
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
            });
            if (!sent)
            {
                return delivered;
            }

            delivered++;
        }

        return delivered;
    }
}
