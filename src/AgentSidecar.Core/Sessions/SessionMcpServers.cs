using AgentSidecar.Core.Providers;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>A session's extra MCP servers: checked at <c>session/start</c>, handed to the agent at every launch.</summary>
internal static class SessionMcpServers
{
    /// <summary>The request's MCP servers, checked against the provider (-32602 naming the field).</summary>
    public static IReadOnlyList<McpServerSpec> Checked(ProviderProfile profile, IReadOnlyList<McpServerSpec> servers)
    {
        if (profile.Mcp is null)
        {
            throw new SidecarException(SidecarError.InvalidArgument, $"provider '{profile.Id}' takes no MCP servers (only providers with the 'mcp' feature do)", new Dictionary<string, object?> { ["field"] = "mcpServers" });
        }

        try
        {
            McpServers.Validate(servers);
            McpServers.ToLaunch(profile.Mcp, string.Empty, servers);
        }
        catch (InvalidMcpServerException ex)
        {
            throw new SidecarException(SidecarError.InvalidArgument, ex.Message, new Dictionary<string, object?> { ["field"] = ex.Field });
        }

        return servers;
    }

    /// <summary>
    /// The agent's extra arguments and its environment (the profile's plus what the servers need)
    /// when the session, or one before it in its /clear chain, was started with MCP servers; null if not.
    /// </summary>
    public static (List<string> Args, Dictionary<string, string> Env)? ForLaunch(string dataDir, SidecarStore store, SessionRow row, ProviderProfile profile)
    {
        if (profile.Mcp is not { } mcp || McpServers.Load(dataDir, Chain(store, row)) is not { } saved)
        {
            return null;
        }

        var (args, extra) = McpServers.ToLaunch(mcp, saved.Path, saved.Servers);
        var env = new Dictionary<string, string>(profile.Env, StringComparer.Ordinal);
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }

        return (args, env);
    }

    /// <summary>The servers <paramref name="row"/> (or one before it in its chain) was started with, if any.</summary>
    public static IReadOnlyList<McpServerSpec>? Saved(string dataDir, SidecarStore store, SessionRow row) =>
        McpServers.Load(dataDir, Chain(store, row))?.Servers is { Count: > 0 } servers ? servers : null;

    /// <summary>The session and the ones before it in its /clear chain, newest first.</summary>
    private static IEnumerable<string> Chain(SidecarStore store, SessionRow row)
    {
        for (var (current, hops) = (row, 0); current is not null && hops < 1000; hops++)
        {
            yield return current.Id;
            current = current.TransitionedFrom is { } previous ? store.GetSession(previous) : null;
        }
    }
}
