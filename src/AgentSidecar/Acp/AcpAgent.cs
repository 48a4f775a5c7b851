using System.Collections.Concurrent;
using System.Globalization;
using AgentSidecar.Cli;
using AgentSidecar.Protocol;
using StreamJsonRpc;

namespace AgentSidecar.Acp;

/// <summary>What <c>agent-sidecar acp</c> was started with (docs/acp.md).</summary>
internal sealed record AcpOptions(string Provider, string? Model);

/// <summary>
/// The ACP methods (docs/acp.md, method by method), each a protocol v1 request to the sidecar that
/// owns the session, reached by the CLI's hand-off rules (<see cref="CliContext.ConnectAsync"/>), so
/// nothing bypasses the event log. One object per ACP connection.
/// </summary>
internal sealed class AcpAgent(CliContext context, AcpOptions options, IAcpClient client, TextWriter log) : IAsyncDisposable
{
    /// <summary>The ACP protocol version this agent speaks.</summary>
    public const int ProtocolVersion = 1;

    private readonly ConcurrentDictionary<string, AcpSession> _sessions = new(StringComparer.Ordinal);
    private readonly List<SidecarLink> _links = [];
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private SidecarLink? _home;

    [JsonRpcMethod(AcpMethods.Initialize, UseSingleObjectParameterDeserialization = true)]
    public async Task<InitializeResponse> InitializeAsync(InitializeRequest request)
    {
        // Version negotiation (the spec): the client's version if this agent speaks it, else the
        // latest it does. It speaks only 1, so the answer is 1 either way; a client that cannot
        // speak 1 disconnects.
        await log.WriteLineAsync($"agent-sidecar acp: client {request.ClientInfo?.Name ?? "(unnamed)"} {request.ClientInfo?.Version}, ACP version {request.ProtocolVersion?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}; answering {ProtocolVersion}").ConfigureAwait(false);
        return new InitializeResponse(
            ProtocolVersion,
            new AgentCapabilities(
                LoadSession: true,
                new PromptCapabilities(Image: false, Audio: false, EmbeddedContext: true),
                new McpCapabilities(Http: false, Sse: false),
                new SessionCapabilities(List: new Supported())),
            [],
            new Implementation("agent-sidecar", Hosting.SidecarVersion.Value, $"agent-sidecar ({options.Provider})"));
    }

    [JsonRpcMethod(AcpMethods.SessionNew, UseSingleObjectParameterDeserialization = true)]
    public async Task<NewSessionResponse> NewSessionAsync(NewSessionRequest request, CancellationToken cancellationToken)
    {
        var cwd = AbsoluteCwd(request.Cwd);
        var link = await HomeAsync().ConfigureAwait(false);
        var mcpServers = await McpServersForAsync(link, request.McpServers).ConfigureAwait(false);
        var session = await CallAsync(null, () => link.Connection.RequestAsync(
            CliProtocol.SessionStart,
            new SessionStartParams { Workspace = cwd, Provider = options.Provider, Model = options.Model, McpServers = mcpServers },
            cancellationToken)).ConfigureAwait(false);
        if (session.Status is not (SessionStatuses.Active or SessionStatuses.Created))
        {
            throw AcpErrors.Internal($"the {options.Provider} agent did not start: {session.StatusReason ?? session.Status}", session.Id);
        }

        // session/start may hand back a live session it reuses; one ACP session per managed session.
        if (!_sessions.TryGetValue(session.Id, out var acp))
        {
            acp = Track(new AcpSession(session.Id, session, link, client, log));
            await acp.StartAsync(session.LastSeq, cancellationToken).ConfigureAwait(false);
            _sessions[session.Id] = acp;
        }

        AnnounceLater(acp);
        return new NewSessionResponse(acp.AcpId, await ConfigOptionsAsync(link, acp).ConfigureAwait(false));
    }

    [JsonRpcMethod(AcpMethods.SessionLoad, UseSingleObjectParameterDeserialization = true)]
    public async Task<LoadSessionResponse> LoadSessionAsync(LoadSessionRequest request, CancellationToken cancellationToken)
    {
        var id = request.SessionId is { Length: > 0 } s ? s : throw AcpErrors.InvalidParams("sessionId", "'sessionId' is required");
        AbsoluteCwd(request.Cwd);
        if (request.McpServers is { Count: > 0 } given)
        {
            await log.WriteLineAsync($"agent-sidecar acp: session/load keeps the MCP servers session {id} was started with; the {given.Count} sent now are not added (its agent runs already)").ConfigureAwait(false);
        }

        var link = await LinkForAsync(id).ConfigureAwait(false);
        var first = await CallAsync(id, () => link.Connection.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = id }, cancellationToken)).ConfigureAwait(false);

        // The newest session of the chain runs the agent: resume it if it was suspended (editor closed, idle, sidecar gone).
        var head = first;
        while (head.TransitionedTo is { } next)
        {
            head = await CallAsync(id, () => link.Connection.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = next }, cancellationToken)).ConfigureAwait(false);
        }

        if (head.Status == SessionStatuses.Suspended || (head.Status == SessionStatuses.Active && head.Owner is null))
        {
            await CallAsync(id, () => link.Connection.RequestAsync(CliProtocol.SessionResume, new SessionIdParams { SessionId = head.Id }, cancellationToken)).ConfigureAwait(false);
        }

        var (current, afterSeq) = await CallAsync(id, () => AcpReplay.SendAsync(link.Connection, first, id, client, cancellationToken)).ConfigureAwait(false);
        if (_sessions.TryRemove(id, out var old))
        {
            await old.DisposeAsync().ConfigureAwait(false);
        }

        var acp = Track(new AcpSession(id, current, link, client, log));
        await acp.StartAsync(afterSeq, cancellationToken).ConfigureAwait(false);
        _sessions[id] = acp;
        AnnounceLater(acp);
        return new LoadSessionResponse(await ConfigOptionsAsync(link, acp).ConfigureAwait(false));
    }

    [JsonRpcMethod(AcpMethods.SessionList, UseSingleObjectParameterDeserialization = true)]
    public async Task<ListSessionsResponse> ListSessionsAsync(ListSessionsRequest request, CancellationToken cancellationToken)
    {
        var cwd = request.Cwd is null ? null : AbsoluteCwd(request.Cwd);
        var link = await HomeAsync().ConfigureAwait(false);
        var page = await CallAsync(null, () => link.Connection.RequestAsync(CliProtocol.SessionList, new SessionListParams { Workspace = cwd, Cursor = request.Cursor }, cancellationToken)).ConfigureAwait(false);

        // The newest session of each chain (/clear, or another agent or model chosen): loading it
        // goes on where the conversation is now. Every agent's: a session's agent is its own option.
        var agents = link.Connection.Server?.Providers.Where(p => p.Features.Contains("chat")).Select(p => p.Id).ToHashSet(StringComparer.Ordinal) ?? [];
        agents.Add(options.Provider);
        var sessions = page.Sessions
            .Where(s => s.TransitionedTo is null && s.Status != SessionStatuses.Failed && agents.Contains(s.Provider))
            .Select(s => new SessionInfo(s.Id, s.Workspace, s.Title, s.UpdatedAt))
            .ToList();
        return new ListSessionsResponse(sessions, page.NextCursor);
    }

    [JsonRpcMethod(AcpMethods.SessionPrompt, UseSingleObjectParameterDeserialization = true)]
    public async Task<PromptResponse> PromptAsync(PromptRequest request, CancellationToken cancellationToken)
    {
        var session = Find(request.SessionId);

        // A $/cancel_request for the prompt is a session/cancel.
        await using (cancellationToken.Register(() => _ = session.CancelAsync()).ConfigureAwait(false))
        {
            return await session.PromptAsync(request).ConfigureAwait(false);
        }
    }

    /// <summary><c>session/set_config_option</c>: the agent (<c>provider</c>) or the <c>model</c> of the session (docs/acp.md).</summary>
    [JsonRpcMethod(AcpMethods.SessionSetConfigOption, UseSingleObjectParameterDeserialization = true)]
    public async Task<SetSessionConfigOptionResponse> SetConfigOptionAsync(SetSessionConfigOptionRequest request)
    {
        var session = Find(request.SessionId);
        var value = request.Value.ValueKind == System.Text.Json.JsonValueKind.String && request.Value.GetString() is { Length: > 0 } v
            ? v
            : throw AcpErrors.InvalidParams("value", "'value' must be the id of one of the option's values (a string)");
        var link = session.Link;
        switch (request.ConfigId)
        {
            case AcpConfigOptions.Provider:
                var agent = link.Connection.Server?.Providers.FirstOrDefault(p => p.Id == value && p.Features.Contains("chat"))
                    ?? throw AcpErrors.InvalidParams("value", $"'{value}' is not an agent of this sidecar; the 'provider' option lists them");
                if (!agent.Available)
                {
                    throw AcpErrors.InvalidParams("value", $"the {agent.DisplayName} agent cannot start here: {agent.Reason}");
                }

                // Another agent starts with its own default model (or this process's --model for its own provider).
                if (value != session.Provider)
                {
                    await session.SwitchAsync(value, ProcessModelFor(value)).ConfigureAwait(false);
                }

                break;
            case AcpConfigOptions.Model:
                await session.SwitchAsync(session.Provider, value == AcpConfigOptions.DefaultModel ? null : value).ConfigureAwait(false);
                break;
            default:
                throw AcpErrors.InvalidParams("configId", $"unknown config option '{request.ConfigId}'; this agent has '{AcpConfigOptions.Provider}' and '{AcpConfigOptions.Model}'");
        }

        return new SetSessionConfigOptionResponse(await ConfigOptionsAsync(link, session).ConfigureAwait(false));
    }

    [JsonRpcMethod(AcpMethods.SessionCancel, UseSingleObjectParameterDeserialization = true)]
    public async Task CancelAsync(CancelNotification notification)
    {
        if (notification.SessionId is { } id && _sessions.TryGetValue(id, out var session))
        {
            await session.CancelAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, session) in _sessions)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        // Connections to other sidecars first; one this process started last: it is left (not shut
        // down) and lingers while its sessions live, the rule of an editor closing its sidecar.
        foreach (var link in _links.OrderBy(l => l.Connection.OwnsSidecar))
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        _connecting.Dispose();
    }

    /// <summary>The <c>--model</c> this process was started with, for sessions of its own provider.</summary>
    private string? ProcessModelFor(string provider) => provider == options.Provider ? options.Model : null;

    private async Task<IReadOnlyList<SessionConfigOption>> ConfigOptionsAsync(SidecarLink link, AcpSession session) =>
        await CallAsync(session.AcpId, () => AcpConfigOptions.ForAsync(link.Connection, session.Provider, session.Model, ProcessModelFor(session.Provider))).ConfigureAwait(false);

    /// <summary>When someone else changes a session's agent or model, the client hears of its new options.</summary>
    private AcpSession Track(AcpSession session)
    {
        session.OptionsChanged += s => _ = Task.Run(async () =>
        {
            try
            {
                var options = await ConfigOptionsAsync(s.Link, s).ConfigureAwait(false);
                await client.UpdateAsync(s.AcpId, new ConfigOptionUpdate(options)).ConfigureAwait(false);
                await s.AnnounceCommandsAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Nobody awaits this: its failure is logged here, never lost.
                await log.WriteLineAsync($"agent-sidecar acp: could not send the new options of session {s.AcpId}: {ex.Message}").ConfigureAwait(false);
            }
        });
        return session;
    }

    private AcpSession Find(string? sessionId) =>
        sessionId is { Length: > 0 } id
            ? _sessions.TryGetValue(id, out var session) ? session : throw AcpErrors.UnknownSession(id)
            : throw AcpErrors.InvalidParams("sessionId", "'sessionId' is required");

    private static string AbsoluteCwd(string? cwd) =>
        cwd is null ? throw AcpErrors.InvalidParams("cwd", "'cwd' is required")
        : Path.IsPathFullyQualified(cwd) ? cwd
        : throw AcpErrors.InvalidParams("cwd", $"'cwd' must be an absolute path, got '{cwd}'");

    /// <summary>
    /// The client's stdio MCP servers, for an agent that takes them (the provider's <c>mcp</c>
    /// feature: Codex, Claude Code, Auggie); the rest (http and sse servers, or a provider without
    /// the feature) are left out with a line on stderr.
    /// </summary>
    private async Task<List<McpServerParams>?> McpServersForAsync(SidecarLink link, IReadOnlyList<McpServer>? servers)
    {
        if (servers is not { Count: > 0 })
        {
            return null;
        }

        var takesMcp = link.Connection.Server?.Providers.FirstOrDefault(p => p.Id == options.Provider)?.Features.Contains("mcp") == true;
        var stdio = servers.Where(s => takesMcp && s.Command is { Length: > 0 } && s.Type is null or "stdio").ToList();
        var left = servers.Except(stdio).ToList();
        if (left.Count > 0)
        {
            var why = takesMcp ? "only stdio servers are passed on" : $"the {options.Provider} agent takes no MCP servers from a client";
            await log.WriteLineAsync($"agent-sidecar acp: leaving out {left.Count} MCP server(s) ({string.Join(", ", left.Select(s => s.Name))}): {why}").ConfigureAwait(false);
        }

        // Editors name servers freely ("My Tools"); the agents' configurations take [A-Za-z0-9_-].
        var names = new HashSet<string>(StringComparer.Ordinal);
        string NameOf(string? name, int i)
        {
            var safe = new string((name ?? string.Empty).Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '-').ToArray());
            safe = safe.Length is 0 or > 56 ? $"mcp{i}" : safe;
            return names.Add(safe) ? safe : names.Add($"{safe}-{i}") ? $"{safe}-{i}" : $"mcp{i}";
        }

        return stdio.Count == 0 ? null : stdio.Select((s, i) => new McpServerParams
        {
            Name = NameOf(s.Name, i),
            Command = s.Command,
            Args = s.Args ?? [],
            Env = (s.Env ?? []).Where(e => e.Name is { Length: > 0 }).GroupBy(e => e.Name!).ToDictionary(g => g.Key, g => g.Last().Value ?? string.Empty),
        }).ToList();
    }

    /// <summary>
    /// The slash commands go out after the answer that names the session: the response is written
    /// when this method returns, so a notification queued behind it follows it on the wire.
    /// </summary>
    private void AnnounceLater(AcpSession session) => _ = Task.Run(async () =>
    {
        await Task.Yield();
        try
        {
            await session.AnnounceCommandsAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Nobody awaits this: its failure is logged here, never lost.
            await log.WriteLineAsync($"agent-sidecar acp: could not send the commands of session {session.AcpId}: {ex.Message}").ConfigureAwait(false);
        }
    });

    /// <summary>The sidecar for new sessions: a running one on the data directory, else one started for this process.</summary>
    private async Task<SidecarLink> HomeAsync()
    {
        await _connecting.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_home is null)
            {
                _home = await ConnectAsync(null).ConfigureAwait(false);
            }

            return _home;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>The sidecar that owns <paramref name="sessionId"/> (its socket), else the home sidecar (which resumes it).</summary>
    private async Task<SidecarLink> LinkForAsync(string sessionId)
    {
        await _connecting.WaitAsync().ConfigureAwait(false);
        try
        {
            var link = await ConnectAsync(sessionId).ConfigureAwait(false);
            _home ??= link;
            return link;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async Task<SidecarLink> ConnectAsync(string? sessionId)
    {
        try
        {
            var link = new SidecarLink(await context.ConnectAsync(sessionId).ConfigureAwait(false));
            _links.Add(link);
            await log.WriteLineAsync($"agent-sidecar acp: connected to {link.Connection.Description}").ConfigureAwait(false);
            return link;
        }
        catch (CliUnavailableException ex)
        {
            throw AcpErrors.Internal(ex.Message, sessionId);
        }
    }

    /// <summary>Runs a protocol v1 call, its errors as ACP errors.</summary>
    private static async Task<T> CallAsync<T>(string? sessionId, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (CliRpcException ex)
        {
            throw AcpErrors.From(ex, sessionId);
        }
        catch (IOException ex)
        {
            throw AcpErrors.Lost(ex, sessionId);
        }
    }
}
