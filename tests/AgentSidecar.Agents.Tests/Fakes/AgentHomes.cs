using System.Text;
using System.Text.Json.Nodes;

namespace AgentSidecar.Tests.Fakes;

/// <summary>An isolated agent home: where it is, where transcripts appear, and the env vars to run the agent with.</summary>
public sealed record AgentHome(string Root, string TranscriptsDir, IReadOnlyDictionary<string, string> Environment);

/// <summary>Environment shared by every agent run in tests: nothing but loopback is reachable.</summary>
public static class LoopbackOnly
{
    /// <summary>Port 9 (discard) on loopback: a proxy that refuses, so any non-loopback request fails fast.</summary>
    public const string DeadProxy = "http://127.0.0.1:9";

    public static IEnumerable<KeyValuePair<string, string>> ProxyVariables()
    {
        yield return new("HTTPS_PROXY", DeadProxy);
        yield return new("HTTP_PROXY", DeadProxy);
        yield return new("https_proxy", DeadProxy);
        yield return new("http_proxy", DeadProxy);
        yield return new("ALL_PROXY", DeadProxy);
        yield return new("NO_PROXY", "127.0.0.1,localhost");
        yield return new("no_proxy", "127.0.0.1,localhost");
    }
}

/// <summary>
/// Choices for a test's <c>CODEX_HOME</c>. The defaults are what every test had before (approvals off,
/// no sandbox, no edit/plan tools); users' defaults are <c>on-request</c> + <c>workspace-write</c>.
/// </summary>
public sealed record CodexHomeOptions
{
    /// <summary><c>approval_policy</c>: <c>never</c>, <c>on-request</c>, <c>on-failure</c>, <c>untrusted</c>.</summary>
    public string ApprovalPolicy { get; init; } = "never";

    /// <summary><c>sandbox_mode</c>: <c>danger-full-access</c>, <c>workspace-write</c>, <c>read-only</c>.</summary>
    public string SandboxMode { get; init; } = "danger-full-access";

    /// <summary>Offer the model <c>apply_patch</c> (catalog <c>apply_patch_tool_type = "freeform"</c>) and <c>update_plan</c> (<c>[tools] update_plan = { enabled = true }</c>).</summary>
    public bool EditAndPlanTools { get; init; }

    /// <summary>
    /// Codex's paste-burst detection (on unless <c>[tui] disable_paste_burst</c>): users have it on;
    /// the tests turn it off unless they ask for it (keys typed in one burst are taken as a paste).
    /// </summary>
    public bool PasteBurst { get; init; }

    /// <summary>Users' defaults with the edit and plan tools on.</summary>
    public static CodexHomeOptions UserDefaults { get; } = new() { ApprovalPolicy = "on-request", SandboxMode = "workspace-write", EditAndPlanTools = true };
}

/// <summary>A private <c>CODEX_HOME</c> pointing Codex at a fake Responses API.</summary>
public static class CodexHome
{
    public const string ModelName = "fake-model";
    public const string ApiKeyVariable = "FAKE_API_KEY";
    public const string CatalogFileName = "fake-model-catalog.json";

    /// <summary>
    /// Writes <c>config.toml</c> (fresh: Codex rewrites it, so never share one between tests) and a
    /// one-model catalog into <paramref name="dir"/>, trusting <paramref name="workspace"/>.
    /// <paramref name="baseUrl"/> is the fake's root (<c>http://127.0.0.1:PORT/</c>) or its <c>/v1</c> URL.
    /// Problem: Codex refuses to create its helper binaries when CODEX_HOME is under /tmp and prints
    /// a WARNING line on the terminal. Solution: put <paramref name="dir"/> elsewhere.
    /// Calling it again on the same <paramref name="dir"/> before the agent starts rewrites the config
    /// (e.g. with other <paramref name="options"/> for a home <c>AgentRun</c> made).
    /// </summary>
    public static AgentHome Create(string dir, Uri baseUrl, string workspace, CodexHomeOptions? options = null)
    {
        options ??= new CodexHomeOptions();
        dir = Path.GetFullPath(dir);
        workspace = Path.GetFullPath(workspace);
        Directory.CreateDirectory(dir);
        var apiBase = baseUrl.AbsoluteUri.TrimEnd('/');
        if (!apiBase.EndsWith("/v1", StringComparison.Ordinal))
        {
            apiBase += "/v1";
        }

        var catalogPath = Path.Combine(dir, CatalogFileName);
        File.WriteAllText(catalogPath, ModelCatalogJson(options.EditAndPlanTools ? "freeform" : null));

        var toml = new StringBuilder()
            .AppendLine($"model = {Toml(ModelName)}")
            .AppendLine("model_provider = \"fake\"")
            .AppendLine($"approval_policy = {Toml(options.ApprovalPolicy)}")
            .AppendLine($"sandbox_mode = {Toml(options.SandboxMode)}")
            .AppendLine("check_for_update_on_startup = false")
            // Without a catalog entry Codex shows "⚠ 1 warning · f2 to view" (model metadata not found).
            .AppendLine($"model_catalog_json = {Toml(catalogPath)}")
            .AppendLine()
            .AppendLine("[model_providers.fake]")
            .AppendLine("name = \"Fake\"")
            .AppendLine($"base_url = {Toml(apiBase)}")
            .AppendLine($"env_key = {Toml(ApiKeyVariable)}")
            .AppendLine("wire_api = \"responses\"")
            .AppendLine("supports_websockets = false")
            .AppendLine("request_max_retries = 0")
            .AppendLine("stream_max_retries = 0")
            .AppendLine()
            .AppendLine("[analytics]")
            .AppendLine("enabled = false")
            .AppendLine()
            .AppendLine("[features]")
            .AppendLine("daemon_auto_start = false")
            .AppendLine("plugins = false")
            .AppendLine("remote_plugin = false")
            .AppendLine("apps = false")
            .AppendLine("shell_snapshot = false")
            .AppendLine("unbounded_connection_retries = false")
            .AppendLine()
            .AppendLine("[tui]")
            .AppendLine($"disable_paste_burst = {(options.PasteBurst ? "false" : "true")}")
            .AppendLine("show_tooltips = false")
            .AppendLine("animations = false")
            .AppendLine()
            .AppendLine("[notice]")
            .AppendLine("hide_full_access_warning = true")
            .AppendLine()
            .AppendLine(options.EditAndPlanTools ? "[tools]\nupdate_plan = { enabled = true }\n" : string.Empty)
            .AppendLine($"[projects.{Toml(workspace)}]")
            .AppendLine("trust_level = \"trusted\"");
        File.WriteAllText(Path.Combine(dir, "config.toml"), toml.ToString());

        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["CODEX_HOME"] = dir,
            [ApiKeyVariable] = "dummy",
        };
        foreach (var (key, value) in LoopbackOnly.ProxyVariables())
        {
            env[key] = value;
        }

        return new AgentHome(dir, Path.Combine(dir, "sessions"), env);
    }

    /// <summary>
    /// The rollout files under <c>CODEX_HOME/sessions/YYYY/MM/DD/</c>, oldest first. Names are
    /// <c>rollout-&lt;local time&gt;-&lt;time-ordered uuid&gt;.jsonl</c>, so ordering by name is ordering by
    /// creation (modification times change when a thread is resumed).
    /// </summary>
    public static IReadOnlyList<string> RolloutFiles(AgentHome home) =>
        Directory.Exists(home.TranscriptsDir)
            ? [.. Directory.EnumerateFiles(home.TranscriptsDir, "rollout-*.jsonl", SearchOption.AllDirectories).OrderBy(Path.GetFileName, StringComparer.Ordinal)]
            : [];

    /// <summary>
    /// A one-entry model catalog (the fields Codex 0.169 requires) so it knows <c>fake-model</c>.
    /// <paramref name="applyPatchToolType"/>: null (no <c>apply_patch</c> tool) or <c>freeform</c>.
    /// </summary>
    public static string ModelCatalogJson(string? applyPatchToolType = null) => new JsonObject
    {
        ["models"] = new JsonArray(new JsonObject
        {
            ["slug"] = ModelName,
            ["display_name"] = ModelName,
            ["description"] = "Fake model served by the test suite on 127.0.0.1.",
            ["default_reasoning_level"] = null,
            ["supported_reasoning_levels"] = new JsonArray(),
            ["shell_type"] = "shell_command",
            ["visibility"] = "list",
            ["supported_in_api"] = true,
            ["priority"] = 1,
            ["availability_nux"] = null,
            ["upgrade"] = null,
            ["base_instructions"] = "You are a fake model used by tests.",
            ["supports_reasoning_summaries"] = false,
            ["default_reasoning_summary"] = "none",
            ["support_verbosity"] = false,
            ["default_verbosity"] = null,
            ["apply_patch_tool_type"] = applyPatchToolType,
            ["web_search_tool_type"] = "text",
            ["truncation_policy"] = new JsonObject { ["mode"] = "tokens", ["limit"] = 10000 },
            ["supports_parallel_tool_calls"] = false,
            ["supports_image_detail_original"] = false,
            ["context_window"] = 128000,
            ["auto_compact_token_limit"] = null,
            ["experimental_supported_tools"] = new JsonArray(),
            ["input_modalities"] = new JsonArray("text"),
            ["prefer_websockets"] = false,
        }),
    }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

    /// <summary>A TOML basic string.</summary>
    private static string Toml(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => sb.Append(@"\\"),
                '"' => sb.Append("\\\""),
                '\n' => sb.Append(@"\n"),
                '\r' => sb.Append(@"\r"),
                '\t' => sb.Append(@"\t"),
                < ' ' => sb.Append($"\\u{(int)c:X4}"),
                _ => sb.Append(c),
            };
        }

        return sb.Append('"').ToString();
    }
}

/// <summary>A private <c>HOME</c> with <c>~/.augment</c> seeded so Auggie skips its first-run screens.</summary>
public static class AuggieHome
{
    /// <summary>
    /// Seeds <c>homeDir/.augment/.auggie.json</c> (onboarding done) and <c>settings.json</c> (indexing
    /// denied for <paramref name="workspace"/>: no permission prompt, no upload attempts) and returns
    /// the env: HOME, AUGMENT_SESSION_AUTH (token + loopback tenant), AUGMENT_DISABLE_AUTO_UPDATE,
    /// NODE_NO_WARNINGS (else Node 20 prints an "EnvHttpProxyAgent is experimental" warning onto the
    /// TUI at the first request, because of the proxy vars) and the proxy vars.
    /// </summary>
    public static AgentHome Create(string homeDir, Uri tenantUrl, string workspace)
    {
        homeDir = Path.GetFullPath(homeDir);
        workspace = Path.GetFullPath(workspace);
        var augment = Path.Combine(homeDir, ".augment");
        Directory.CreateDirectory(augment);
        File.WriteAllText(Path.Combine(augment, ".auggie.json"), """{"onboardingVersion":"1.0.0"}""");
        File.WriteAllText(
            Path.Combine(augment, "settings.json"),
            new JsonObject { ["indexingDenyDirs"] = new JsonArray(workspace) }.ToJsonString());

        var tenant = tenantUrl.AbsoluteUri.EndsWith('/') ? tenantUrl.AbsoluteUri : tenantUrl.AbsoluteUri + "/";
        var auth = new JsonObject
        {
            ["accessToken"] = "fake-token",
            ["tenantURL"] = tenant,
            ["scopes"] = new JsonArray("read", "write"),
        };

        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["HOME"] = homeDir,
            ["AUGMENT_SESSION_AUTH"] = auth.ToJsonString(),
            ["AUGMENT_DISABLE_AUTO_UPDATE"] = "1",
            ["NODE_NO_WARNINGS"] = "1",
        };
        foreach (var (key, value) in LoopbackOnly.ProxyVariables())
        {
            env[key] = value;
        }

        return new AgentHome(homeDir, Path.Combine(augment, "sessions"), env);
    }

    /// <summary>The session files <c>~/.augment/sessions/&lt;conversationId&gt;.json</c>, oldest first.</summary>
    public static IReadOnlyList<string> SessionFiles(AgentHome home) =>
        Directory.Exists(home.TranscriptsDir)
            ? [.. Directory.EnumerateFiles(home.TranscriptsDir, "*.json").OrderBy(File.GetCreationTimeUtc).ThenBy(f => f, StringComparer.Ordinal)]
            : [];
}

/// <summary>A private <c>HOME</c> with <c>~/.claude.json</c> seeded so Claude Code skips its first-run screens.</summary>
public static class ClaudeHome
{
    /// <summary>An Anthropic-looking API key (Claude Code remembers approved keys by their last 20 characters).</summary>
    public const string ApiKey = "sk-ant-api03-fake-key-for-tests-only-0123456789abcdefABCDEF";

    /// <summary>
    /// Seeds <c>homeDir/.claude.json</c>: onboarding done for <paramref name="version"/> (else the
    /// welcome, theme and "what's new" screens come up), a theme, the API key approved (else it asks
    /// whether to use the key from the environment), and <paramref name="workspace"/> trusted with its
    /// project onboarding done (else the trust dialog). Returns the env: HOME, ANTHROPIC_BASE_URL (the
    /// fake's root, without <c>/v1</c>), ANTHROPIC_API_KEY, the switches that turn off telemetry,
    /// auto-update, error reports and other non-essential traffic, and the proxy vars.
    /// </summary>
    public static AgentHome Create(string homeDir, Uri baseUrl, string workspace, string version)
    {
        homeDir = Path.GetFullPath(homeDir);
        workspace = Path.GetFullPath(workspace);
        Directory.CreateDirectory(Path.Combine(homeDir, ".claude"));
        var config = new JsonObject
        {
            ["hasCompletedOnboarding"] = true,
            ["lastOnboardingVersion"] = version,
            ["theme"] = "dark",
            ["customApiKeyResponses"] = new JsonObject
            {
                ["approved"] = new JsonArray(ApiKey[^20..]),
                ["rejected"] = new JsonArray(),
            },
            ["projects"] = new JsonObject
            {
                [workspace] = new JsonObject
                {
                    ["hasTrustDialogAccepted"] = true,
                    ["hasCompletedProjectOnboarding"] = true,
                    ["allowedTools"] = new JsonArray(),
                },
            },
        };
        File.WriteAllText(Path.Combine(homeDir, ".claude.json"), config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["HOME"] = homeDir,
            ["ANTHROPIC_BASE_URL"] = baseUrl.AbsoluteUri.TrimEnd('/'),
            ["ANTHROPIC_API_KEY"] = ApiKey,
            ["DISABLE_TELEMETRY"] = "1",
            ["DISABLE_AUTOUPDATER"] = "1",
            ["DISABLE_ERROR_REPORTING"] = "1",
            ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
            ["DISABLE_BUG_COMMAND"] = "1",
            ["DISABLE_COST_WARNINGS"] = "1",
        };
        foreach (var (key, value) in LoopbackOnly.ProxyVariables())
        {
            env[key] = value;
        }

        return new AgentHome(homeDir, Path.Combine(homeDir, ".claude", "projects"), env);
    }

    /// <summary>The transcripts <c>~/.claude/projects/&lt;cwd with / and . as -&gt;/&lt;sessionId&gt;.jsonl</c> of all workspaces, oldest first.</summary>
    public static IReadOnlyList<string> TranscriptFiles(AgentHome home) =>
        Directory.Exists(home.TranscriptsDir)
            ? [.. Directory.EnumerateFiles(home.TranscriptsDir, "*.jsonl", SearchOption.AllDirectories).OrderBy(File.GetCreationTimeUtc).ThenBy(f => f, StringComparer.Ordinal)]
            : [];

    /// <summary>The <c>sessionId</c> in <c>~/.claude/sessions/&lt;pid&gt;.json</c> (Claude Code's current conversation), or null.</summary>
    public static string? CurrentSessionId(AgentHome home, int pid)
    {
        var path = Path.Combine(home.Root, ".claude", "sessions", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".json");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["sessionId"]?.GetValue<string>();
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
