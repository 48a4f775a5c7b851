using System.Globalization;
using System.Text;
using AgentSidecar.Core;
using AgentSidecar.Core.Events;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Hosting;
using AgentSidecar.Protocol;
using AgentSidecar.Rpc;
using StreamJsonRpc;
using AgentSidecar.Store;

namespace AgentSidecar.Handlers;

internal sealed class SessionHandlers(JsonRpcConnection connection, SessionManager sessions, ProcessSettings settings, ClientConnections clients)
{
    private const int DefaultListLimit = 100;

    private SessionManager Sessions => sessions;

    [JsonRpcMethod(Methods.SessionStart)]
    public async Task<Session> StartAsync(SessionStartParams p, CancellationToken ct)
    {
        var view = await Sessions.StartAsync(new StartSessionRequest
        {
            Workspace = p.Workspace!,
            Provider = p.Provider ?? clients.Get(connection)?.DefaultProvider ?? settings.DefaultProvider,
            Model = p.Model,
            TaskId = p.TaskId,
            Kind = p.Kind ?? "quick",
            Title = p.Title,
            Reuse = p.Reuse ?? true,
            Cols = p.Cols,
            Rows = p.Rows,
            McpServers = p.McpServers?.Select(m => new Core.Providers.McpServerSpec(m.Name!, m.Command!, m.Args ?? [], m.Env ?? new Dictionary<string, string>())).ToList(),
            Replaces = p.Replaces,
        }, ct).ConfigureAwait(false);
        return WireMapper.ToWire(view);
    }

    [JsonRpcMethod(Methods.SessionGet)]
    public Task<Session> GetAsync(SessionIdParams p, CancellationToken ct) =>
        Task.FromResult(WireMapper.ToWire(Sessions.Get(p.SessionId!)));

    [JsonRpcMethod(Methods.SessionList)]
    public Task<SessionListResult> ListAsync(SessionListParams p, CancellationToken ct)
    {
        var (views, last) = Sessions.List(new SessionQuery
        {
            Workspace = p.Workspace,
            Provider = p.Provider,
            Statuses = p.Status,
            TaskId = p.TaskId,
            Limit = p.Limit ?? DefaultListLimit,
            After = p.Cursor is null ? null : DecodeCursor(p.Cursor),
        });
        return Task.FromResult(new SessionListResult
        {
            Sessions = views.Select(WireMapper.ToWire).ToList(),
            NextCursor = last is null ? null : EncodeCursor(last),
        });
    }

    [JsonRpcMethod(Methods.SessionEnd)]
    public async Task<Session> EndAsync(SessionIdParams p, CancellationToken ct) =>
        WireMapper.ToWire(await Sessions.EndAsync(p.SessionId!, ct).ConfigureAwait(false));

    [JsonRpcMethod(Methods.SessionClear)]
    public async Task<SessionClearResult> ClearAsync(SessionIdParams p, CancellationToken ct)
    {
        var (previous, current) = await Sessions.ClearAsync(p.SessionId!, ct).ConfigureAwait(false);
        return new SessionClearResult { Previous = WireMapper.ToWire(previous), Current = WireMapper.ToWire(current) };
    }

    [JsonRpcMethod(Methods.SessionDelete)]
    public async Task<SessionDeleteResult> DeleteAsync(SessionIdParams p, CancellationToken ct)
    {
        var outcome = await Sessions.DeleteAsync(p.SessionId!).ConfigureAwait(false);
        return new SessionDeleteResult
        {
            Worktree = outcome is null ? null : new WorktreeInfo { Path = outcome.Path, Branch = outcome.Branch, State = outcome.Removed ? "removed" : "kept", Reason = outcome.Reason },
        };
    }

    [JsonRpcMethod(Methods.SessionSuspend)]
    public async Task<Session> SuspendAsync(SessionIdParams p, CancellationToken ct) =>
        WireMapper.ToWire(await Sessions.SuspendAsync(p.SessionId!).ConfigureAwait(false));

    [JsonRpcMethod(Methods.SessionResume)]
    public async Task<Session> ResumeAsync(SessionIdParams p, CancellationToken ct) =>
        WireMapper.ToWire(await Sessions.ResumeAsync(p.SessionId!, ct).ConfigureAwait(false));

    [JsonRpcMethod(Methods.SessionReset)]
    public async Task<SessionResetResult> ResetAsync(SessionResetParams p, CancellationToken ct) =>
        new() { Ended = await Sessions.ResetAsync(p.Workspace!, p.Provider).ConfigureAwait(false) };

    [JsonRpcMethod(Methods.SessionCleanup)]
    public async Task<SessionCleanupResult> CleanupAsync(SessionCleanupParams p, CancellationToken ct)
    {
        var options = settings.Cleanup;
        var result = await Sessions.CleanupAsync(
            TimeSpan.FromSeconds(p.IdleSeconds ?? options.IdleSeconds),
            TimeSpan.FromDays(p.PurgeOlderThanDays ?? options.PurgeOlderThanDays)).ConfigureAwait(false);
        return new SessionCleanupResult { Ended = result.Ended, Purged = result.Purged };
    }

    [JsonRpcMethod(Methods.SessionImport)]
    public async Task<SessionImportResult> ImportAsync(SessionImportParams p, CancellationToken ct)
    {
        var views = await Sessions.ImportAsync(p.Workspace!, p.Provider!).ConfigureAwait(false);
        return new SessionImportResult { Sessions = views.Select(WireMapper.ToWire).ToList() };
    }

    [JsonRpcMethod(Methods.SessionSetTaskId)]
    public async Task<Session> SetTaskIdAsync(SessionSetTaskIdParams p, CancellationToken ct) =>
        WireMapper.ToWire(await Sessions.SetTaskIdAsync(p.SessionId!, p.Value).ConfigureAwait(false));

    [JsonRpcMethod(Methods.SessionAttach)]
    public Task<SessionAttachResult> AttachAsync(SessionAttachParams p, CancellationToken ct)
    {
        var client = clients.Get(connection) ?? throw new RpcException(ErrorCodes.InvalidState, "the connection is closing");
        var limits = sessions.Limits;
        if (client.Attachments.Count >= limits.AttachmentsPerConnection)
        {
            throw SidecarLimits.Reached("attachmentsPerConnection", limits.AttachmentsPerConnection, $"this connection holds {client.Attachments.Count} attachments; detach some first (session/detach)");
        }

        if (clients.TotalAttachments >= limits.Attachments)
        {
            throw SidecarLimits.Reached("attachments", limits.Attachments, "the sidecar's clients hold as many attachments as it serves");
        }

        var attachId = string.Empty;
        var sink = new DeferredSink();
        var (attachment, lastSeq) = Sessions.Attach(p.SessionId!, p.AfterSeq ?? 0, p.Channels, sink);
        attachId = attachment.Id;
        sink.Target = new ConnectionEventSink(connection, attachId);
        client.Attachments[attachId] = attachment;
        _ = attachment.Ended.ContinueWith(t =>
        {
            client.Attachments.TryRemove(attachId, out _);
            if (t.Result is DetachReasons.Overflow or DetachReasons.Deleted or DetachReasons.Error or DetachReasons.Ended)
            {
                connection.Notify(Notifications.SessionDetached, new SessionDetachedParams
                {
                    AttachId = attachId,
                    Reason = t.Result,
                    LastSeq = attachment.Cursor,
                    SessionId = attachment.SessionId,
                });
            }
        }, TaskScheduler.Default);

        // Events flow only after the client has the attach result, so it knows the attachId first.
        RpcRequestContext.Current!.OnResponseSent(attachment.Start);
        return Task.FromResult(new SessionAttachResult { AttachId = attachId, LastSeq = lastSeq });
    }

    [JsonRpcMethod(Methods.SessionDetach)]
    public Task<EmptyResult> DetachAsync(SessionDetachParams p, CancellationToken ct)
    {
        if (!Sessions.Detach(p.AttachId!))
        {
            throw new RpcException(ErrorCodes.InvalidParams, $"no attachment '{p.AttachId}'", new System.Text.Json.Nodes.JsonObject { ["field"] = "attachId" });
        }

        return Task.FromResult(EmptyResult.Instance);
    }

    [JsonRpcMethod(Methods.SessionEvents)]
    public Task<SessionEventsResult> EventsAsync(SessionEventsParams p, CancellationToken ct)
    {
        var (events, lastSeq, hasMore) = Sessions.ReadEvents(p.SessionId!, p.AfterSeq ?? 0, p.Limit ?? SessionEventsParams.DefaultLimit, p.Channels);
        return Task.FromResult(new SessionEventsResult
        {
            Events = events.Select(WireMapper.ToWire).ToList(),
            LastSeq = lastSeq,
            HasMore = hasMore,
        });
    }

    private static string EncodeCursor(SessionRow last) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{last.CreatedAt}:{last.Id}"));

    private static (long, string) DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return (long.Parse(text.AsSpan(0, colon), CultureInfo.InvariantCulture), text[(colon + 1)..]);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentOutOfRangeException or OverflowException)
        {
            throw RpcException.InvalidParams("cursor", "'cursor' is not a cursor this sidecar returned (pass nextCursor back unchanged)");
        }
    }

    /// <summary>Lets the attachment exist before the sink knows its id.</summary>
    private sealed class DeferredSink : IEventSink
    {
        public ConnectionEventSink? Target { get; set; }

        public ValueTask<int> DeliverAsync(IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken) =>
            Target!.DeliverAsync(events, cancellationToken);
    }
}
