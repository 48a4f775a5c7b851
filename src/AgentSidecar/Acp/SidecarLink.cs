using System.Collections.Concurrent;
using System.Threading.Channels;
using AgentSidecar.Cli;
using AgentSidecar.Protocol;

namespace AgentSidecar.Acp;

/// <summary>
/// One protocol v1 connection of the ACP agent (a <see cref="CliConnection"/>, reached by the CLI's
/// hand-off rules) shared by the ACP sessions on that sidecar. The connection calls one handler per
/// notification type on its reader thread; this fans them out without blocking it: each attachment's
/// events go into its own queue, read in order by the session that attached.
/// </summary>
internal sealed class SidecarLink : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Channel<EventRecord>> _attachments = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Action<SessionDetachedParams>> _detached = new(StringComparer.Ordinal);

    public SidecarLink(CliConnection connection)
    {
        Connection = connection;

        // Problem: events of an attachment can arrive before the caller has the attach result in hand.
        // Solution: the queue is made by whichever side comes first, so nothing is dropped.
        connection.On(CliProtocol.SessionEvent, p => Queue(p.AttachId).Writer.TryWrite(p.Event));
        connection.On(CliProtocol.SessionTransitioned, p => Transitioned?.Invoke(p));
        connection.On(CliProtocol.SessionDetached, p =>
        {
            if (_detached.TryGetValue(p.AttachId, out var handler))
            {
                handler(p);
            }
        });
    }

    public CliConnection Connection { get; }

    /// <summary>A /clear moved a session on (<c>session/transitioned</c>, to every client).</summary>
    public event Action<SessionTransitionedParams>? Transitioned;

    /// <summary>Attaches to <paramref name="sessionId"/>'s chat events after <paramref name="afterSeq"/>; they follow /clear transitions.</summary>
    public async Task<(string AttachId, ChannelReader<EventRecord> Events)> AttachAsync(string sessionId, long afterSeq, Action<SessionDetachedParams> onDetached, CancellationToken cancellationToken)
    {
        var result = await Connection.RequestAsync(CliProtocol.SessionAttach, new SessionAttachParams { SessionId = sessionId, AfterSeq = afterSeq, Channels = [Channels.Chat] }, cancellationToken).ConfigureAwait(false);
        _detached[result.AttachId] = onDetached;
        return (result.AttachId, Queue(result.AttachId).Reader);
    }

    /// <summary>Forgets an attachment that ended (its queue is completed).</summary>
    public void Forget(string attachId)
    {
        _detached.TryRemove(attachId, out _);
        if (_attachments.TryRemove(attachId, out var queue))
        {
            queue.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, queue) in _attachments)
        {
            queue.Writer.TryComplete();
        }

        // A sidecar this process started suspends its sessions now, as when an editor closes.
        await Connection.DisposeAsync().ConfigureAwait(false);
    }

    private Channel<EventRecord> Queue(string attachId) =>
        _attachments.GetOrAdd(attachId, _ => Channel.CreateUnbounded<EventRecord>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true }));
}
