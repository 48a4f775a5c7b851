using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentSidecar.Core.Providers;

/// <summary>An MCP server (stdio) that a client asks a session's agent to use besides its own.</summary>
public sealed record McpServerSpec(string Name, string Command, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Env);

/// <summary>How a provider takes extra MCP servers on its command line (profile <c>mcp</c>).</summary>
public sealed record ProviderMcp
{
    public const string JsonFile = "jsonFile";
    public const string CodexConfig = "codexConfig";

    /// <summary>
    /// <c>jsonFile</c>: a file <c>{"mcpServers": {name: {command, args, env}}}</c> after <see cref="Flag"/>
    /// (Claude Code, Auggie); <c>codexConfig</c>: <c>-c mcp_servers.NAME.*</c> overrides (Codex).
    /// </summary>
    public string Style { get; set; } = JsonFile;

    /// <summary>The flag before the file (<c>jsonFile</c>).</summary>
    public string Flag { get; set; } = "--mcp-config";
}

/// <summary>
/// The extra MCP servers of a session: kept in <c>&lt;data-dir&gt;/mcp/&lt;session-id&gt;.json</c> (mode
/// 0600: their env may hold tokens) so that a resume starts the agent with them again, and turned
/// into the agent's arguments and environment. Their env values never go on a command line (anyone
/// can read that through <c>ps</c>): Claude Code and Auggie read them from the file, Codex from its
/// own environment through <c>env_vars</c>.
/// </summary>
public static partial class McpServers
{
    public const int MaxServers = 32;

    /// <summary>Checks a request's servers; an <see cref="InvalidMcpServerException"/> names the field that is wrong.</summary>
    public static void Validate(IReadOnlyList<McpServerSpec> servers)
    {
        if (servers.Count > MaxServers)
        {
            throw new InvalidMcpServerException("mcpServers", $"mcpServers: at most {MaxServers} servers");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < servers.Count; i++)
        {
            var s = servers[i];
            if (!NamePattern().IsMatch(s.Name) || !names.Add(s.Name))
            {
                throw new InvalidMcpServerException($"mcpServers[{i}].name", $"mcpServers[{i}].name must be 1-64 letters, digits, '_' or '-', and unique (got '{s.Name}')");
            }

            if (string.IsNullOrWhiteSpace(s.Command) || s.Command.Contains('\0', StringComparison.Ordinal))
            {
                throw new InvalidMcpServerException($"mcpServers[{i}].command", $"mcpServers[{i}].command must be a program to run");
            }

            foreach (var key in s.Env.Keys)
            {
                if (!EnvNamePattern().IsMatch(key))
                {
                    throw new InvalidMcpServerException($"mcpServers[{i}].env", $"mcpServers[{i}].env: '{key}' is not an environment variable name");
                }
            }
        }
    }

    public static string FilePath(string dataDir, string sessionId) => Path.Combine(dataDir, "mcp", $"{sessionId}.json");

    /// <summary>Writes the session's servers (the agent's own format for <c>jsonFile</c> providers).</summary>
    public static void Save(string dataDir, string sessionId, IReadOnlyList<McpServerSpec> servers)
    {
        var path = FilePath(dataDir, sessionId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var map = new JsonObject();
        foreach (var s in servers)
        {
            var env = new JsonObject();
            foreach (var (k, v) in s.Env)
            {
                env[k] = v;
            }

            map[s.Name] = new JsonObject { ["type"] = "stdio", ["command"] = s.Command, ["args"] = new JsonArray(s.Args.Select(a => (JsonNode?)a).ToArray()), ["env"] = env };
        }

        var temp = path + ".tmp";
        File.Delete(temp);
        using (var file = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            JsonSerializer.Serialize(file, new JsonObject { ["mcpServers"] = map }, McpJsonContext.Default.JsonObject);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The servers saved for <paramref name="sessionIds"/> (a session, then the ones before it in its /clear chain): the first found.</summary>
    public static (string Path, IReadOnlyList<McpServerSpec> Servers)? Load(string dataDir, IEnumerable<string> sessionIds)
    {
        foreach (var id in sessionIds)
        {
            var path = FilePath(dataDir, id);
            if (!File.Exists(path))
            {
                continue;
            }

            var root = JsonNode.Parse(File.ReadAllText(path))?["mcpServers"]?.AsObject() ?? [];
            var servers = root.Select(p => new McpServerSpec(
                p.Key,
                p.Value?["command"]?.GetValue<string>() ?? string.Empty,
                p.Value?["args"]?.AsArray().Select(a => a?.GetValue<string>() ?? string.Empty).ToList() ?? [],
                p.Value?["env"]?.AsObject().ToDictionary(e => e.Key, e => e.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal) ?? [])).ToList();
            return (path, servers);
        }

        return null;
    }

    /// <summary>The arguments and environment that hand <paramref name="servers"/> to the agent the way <paramref name="mcp"/> says.</summary>
    public static (List<string> Args, Dictionary<string, string> Env) ToLaunch(ProviderMcp mcp, string file, IReadOnlyList<McpServerSpec> servers)
    {
        if (mcp.Style == ProviderMcp.JsonFile)
        {
            return ([mcp.Flag, file], []);
        }

        // Codex: TOML values after -c (a JSON string or array of strings is valid TOML); the env
        // values go into Codex's environment, and env_vars names what it passes on to the server.
        var args = new List<string>();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in servers)
        {
            args.Add("-c");
            args.Add($"mcp_servers.{s.Name}.command={JsonSerializer.Serialize(s.Command, McpJsonContext.Default.String)}");
            args.Add("-c");
            args.Add($"mcp_servers.{s.Name}.args={JsonSerializer.Serialize(s.Args.ToList(), McpJsonContext.Default.ListString)}");
            if (s.Env.Count > 0)
            {
                foreach (var (k, v) in s.Env)
                {
                    if (env.TryGetValue(k, out var other) && other != v)
                    {
                        throw new InvalidMcpServerException("mcpServers", $"mcpServers: two servers set {k} to different values, which Codex cannot tell apart (it passes variables on from its own environment)");
                    }

                    env[k] = v;
                }

                args.Add("-c");
                args.Add($"mcp_servers.{s.Name}.env_vars={JsonSerializer.Serialize(s.Env.Keys.ToList(), McpJsonContext.Default.ListString)}");
            }
        }

        return (args, env);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvNamePattern();
}

/// <summary>A request's MCP servers are not right: <see cref="Field"/> says where.</summary>
public sealed class InvalidMcpServerException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class McpJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
