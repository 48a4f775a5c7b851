using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace AgentSidecar.Core.Providers;

/// <summary>A provider as known to the sidecar: its profile, or why its profile was rejected.</summary>
public sealed record ProviderEntry(string Id, ProviderProfile? Profile, string? Error, string Source);

/// <summary>
/// The providers this sidecar knows: the built-ins, overridden or extended by the config files
/// and by <c>initializationOptions.providers</c> (each a whole profile or a partial override).
/// </summary>
public sealed partial class ProviderRegistry
{
    private static readonly JsonSerializerOptions PrettyOptions = new(ProviderJsonContext.Default.Options)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly string[] Readers = ["", "codex-rollout", "claude-jsonl", "auggie-session"];
    private readonly ConcurrentDictionary<string, ProviderEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string?> _versions = new(StringComparer.Ordinal);
    private readonly Func<string, string?> _env;

    public ProviderRegistry(Func<string, string?> env)
    {
        _env = env;
        foreach (var p in BuiltInProviders.All)
        {
            _entries[p.Id] = new ProviderEntry(p.Id, p, null, "built-in");
        }
    }

    public IEnumerable<ProviderEntry> Entries => _entries.Values.OrderBy(e => e.Id, StringComparer.Ordinal);

    public IEnumerable<ProviderProfile> All => Entries.Where(e => e.Profile is not null).Select(e => e.Profile!);

    public ProviderEntry? FindEntry(string id) => _entries.GetValueOrDefault(id);

    public ProviderProfile? Find(string id) => _entries.GetValueOrDefault(id)?.Profile;

    /// <summary>A profile as JSON (the providers-file format).</summary>
    public static string ToJson(ProviderProfile profile) => JsonSerializer.Serialize(profile, PrettyOptions);

    /// <summary>Profiles as a providers file: <c>{id: profile, …}</c> in id order.</summary>
    public static string ToJson(IEnumerable<ProviderProfile> profiles) =>
        "{\n" + string.Join(",\n", profiles.OrderBy(p => p.Id, StringComparer.Ordinal).Select(p => $"  \"{p.Id}\": " + ToJson(p).Replace("\n", "\n  ", StringComparison.Ordinal))) + "\n}";

    /// <summary>Applies <c>{id: profile or partial override}</c>; returns the errors (each naming its field).</summary>
    public List<string> Apply(JsonElement providers, string source)
    {
        var errors = new List<string>();
        if (providers.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{source}: 'providers' must be an object of id → profile");
            return errors;
        }

        foreach (var p in providers.EnumerateObject())
        {
            var entry = Build(p.Name, p.Value, source);
            _entries[p.Name] = entry;
            if (entry.Error is not null)
            {
                errors.Add(entry.Error);
            }
        }

        return errors;
    }

    /// <summary>Reads <c>config.json</c> (its <c>providers</c>) and <c>providers.json</c> from the config directory.</summary>
    public List<string> LoadConfigDirectory(string configDir)
    {
        var errors = new List<string>();
        foreach (var (file, key) in new[] { ("config.json", "providers"), ("providers.json", (string?)null) })
        {
            var path = Path.Combine(configDir, file);
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
                if (key is null)
                {
                    errors.AddRange(Apply(doc.RootElement, path));
                }
                else if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var section))
                {
                    errors.AddRange(Apply(section, path));
                }
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
                errors.Add($"{path}: {ex.Message}");
            }
        }

        return errors;
    }

    /// <summary>Expands <c>${VAR}</c>, <c>${VAR:-default}</c> and a leading <c>~</c>.</summary>
    /// <summary>
    /// Expands like <see cref="Expand(string)"/>, but the profile's own <c>env</c> wins over the
    /// sidecar's environment (e.g. <c>CODEX_HOME</c> set only for the agent also moves its transcripts).
    /// </summary>
    public string Expand(string value, IReadOnlyDictionary<string, string>? profileEnv)
    {
        if (profileEnv is not { Count: > 0 })
        {
            return Expand(value);
        }

        var saved = _env;
        return ExpandWith(value, name => profileEnv.TryGetValue(name, out var v) ? ExpandWith(v, saved) : saved(name));
    }

    public string Expand(string value) => ExpandWith(value, _env);

    private static string ExpandWith(string value, Func<string, string?> env)
    {
        var start = value.IndexOf("${", StringComparison.Ordinal);
        while (start >= 0)
        {
            var end = value.IndexOf('}', start);
            if (end < 0)
            {
                break;
            }

            var expr = value[(start + 2)..end];
            var sep = expr.IndexOf(":-", StringComparison.Ordinal);
            var name = sep >= 0 ? expr[..sep] : expr;
            var fallback = sep >= 0 ? expr[(sep + 2)..] : string.Empty;
            var replacement = env(name) is { Length: > 0 } v ? v : fallback;
            value = string.Concat(value.AsSpan(0, start), replacement, value.AsSpan(end + 1));
            start = value.IndexOf("${", start + replacement.Length, StringComparison.Ordinal);
        }

        if (value == "~" || value.StartsWith("~/", StringComparison.Ordinal))
        {
            value = (env("HOME") ?? "/") + value[1..];
        }

        return value;
    }

    /// <summary>The absolute path of <paramref name="command"/> (searched in PATH), or null.</summary>
    public string? Resolve(string command)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        }

        foreach (var dir in (_env("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The first line the command prints for its version arguments (cached; 5 s limit), or null.</summary>
    public async Task<string?> VersionAsync(ProviderProfile profile, string resolved)
    {
        if (profile.VersionArgs.Count == 0)
        {
            return null;
        }

        if (_versions.TryGetValue(resolved, out var cached))
        {
            return cached;
        }

        string? version = null;
        try
        {
            var psi = new ProcessStartInfo(resolved) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in profile.VersionArgs)
            {
                psi.ArgumentList.Add(a);
            }

            foreach (var (k, v) in profile.Env)
            {
                psi.Environment[k] = Expand(v);
            }

            using var process = Process.Start(psi)!;
            process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var output = await process.StandardOutput.ReadToEndAsync(cts.Token).ConfigureAwait(false);
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            version = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
        }

        _versions[resolved] = version;
        return version;
    }

    private ProviderEntry Build(string id, JsonElement value, string source)
    {
        try
        {
            return BuildProfile(id, value, source);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or NullReferenceException)
        {
            return new ProviderEntry(id, null, $"{source}: provider '{id}': {ex.Message}", source);
        }
    }

    private ProviderEntry BuildProfile(string id, JsonElement value, string source)
    {
        var prefix = $"{source}: provider '{id}'";
        if (value.ValueKind != JsonValueKind.Object)
        {
            return new ProviderEntry(id, null, $"{prefix}: a profile must be an object", source);
        }

        // Partial override: the user's fields over the existing profile (objects merged, arrays replaced).
        var merged = _entries.TryGetValue(id, out var existing) && existing.Profile is not null
            ? (JsonObject)JsonSerializer.SerializeToNode(existing.Profile, ProviderJsonContext.Default.ProviderProfile)!
            : new JsonObject();
        Merge(merged, JsonObject.Create(value)!);
        merged["id"] = id;

        ProviderProfile profile;
        try
        {
            profile = merged.Deserialize(ProviderJsonContext.Default.ProviderProfile)!;
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path ? path[2..] : "profile";
            return new ProviderEntry(id, null, $"{prefix}: field '{field}' has the wrong type", source);
        }

        return Validate(profile) is { } error
            ? new ProviderEntry(id, null, $"{prefix}: {error}", source)
            : new ProviderEntry(id, profile with { DisplayName = profile.DisplayName ?? id }, null, source);
    }

    private static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, node) in source.ToList())
        {
            source.Remove(key);
            if (node is JsonObject child && target[key] is JsonObject existing)
            {
                Merge(existing, child);
            }
            else
            {
                target[key] = node;
            }
        }
    }

    /// <summary>Why the profile is unusable, naming the field; null when it is fine.</summary>
    private static string? ValidateApprovals(ProviderProfile p)
    {
        for (var i = 0; i < p.Approvals.Count; i++)
        {
            var a = p.Approvals[i];
            if (string.IsNullOrEmpty(a.Screen) || !IsRegex(a.Screen))
            {
                return $"field 'approvals[{i}].screen' must be a valid regular expression, got '{a.Screen}'";
            }

            if (a.Options.Count == 0)
            {
                return $"field 'approvals[{i}].options' needs at least one option";
            }

            for (var j = 0; j < a.Options.Count; j++)
            {
                var o = a.Options[j];
                if (string.IsNullOrWhiteSpace(o.OptionId) || string.IsNullOrEmpty(o.Keys) || string.IsNullOrWhiteSpace(o.Label))
                {
                    return $"field 'approvals[{i}].options[{j}]' needs 'optionId', 'label' and 'keys'";
                }

                if (o.Kind is not (Chat.ApprovalOptionKinds.AllowOnce or Chat.ApprovalOptionKinds.AllowAlways or Chat.ApprovalOptionKinds.RejectOnce or Chat.ApprovalOptionKinds.RejectAlways))
                {
                    return $"field 'approvals[{i}].options[{j}].kind' must be allow_once, allow_always, reject_once or reject_always, got '{o.Kind}'";
                }
            }

            if (a.Options.Select(o => o.OptionId).Distinct(StringComparer.Ordinal).Count() != a.Options.Count)
            {
                return $"field 'approvals[{i}].options' names an optionId twice";
            }
        }

        return null;
    }

    internal static string? Validate(ProviderProfile p)
    {
        if (!IdPattern().IsMatch(p.Id))
        {
            return $"field 'id' must be lowercase letters, digits, '.', '_' or '-', got '{p.Id}'";
        }

        if (string.IsNullOrWhiteSpace(p.Command))
        {
            return "field 'command' is required";
        }

        foreach (var (field, pattern) in new[]
        {
            ("ready.osc", p.Ready?.Osc), ("ready.screen", p.Ready?.Screen), ("busy.osc", p.Busy?.Osc), ("busy.screen", p.Busy?.Screen),
            ("done.osc", p.Done?.Osc), ("done.screen", p.Done?.Screen), ("failed.osc", p.Failed?.Osc), ("answerPattern", p.AnswerPattern),
        }.Concat(p.ChromePatterns.Select((c, i) => ($"chromePatterns[{i}]", (string?)c))))
        {
            if (pattern is not null && !IsRegex(pattern))
            {
                return $"field '{field}' is not a valid regular expression: '{pattern}'";
            }
        }

        if (ValidateApprovals(p) is { } approvalError)
        {
            return approvalError;
        }

        if (SecretRedactor.CommandLineError(p) is { } secretError)
        {
            return secretError;
        }

        if (p.Ready is { Osc: null, Screen: null })
        {
            return "field 'ready' needs 'osc' or 'screen'";
        }

        if (p.Input.SubmitDelayMs is < 0 or > 5000 || p.Input.PasteSubmitDelayMs is < 0 or > 5000)
        {
            return "fields 'input.submitDelayMs' and 'input.pasteSubmitDelayMs' must be between 0 and 5000";
        }

        if (p.Clear is { } clear && (string.IsNullOrWhiteSpace(clear.Command) || clear.Enters is < 1 or > 5))
        {
            return "field 'clear' needs a 'command' and 'enters' between 1 and 5";
        }

        if (p.QuitEnters is < 1 or > 5)
        {
            return "field 'quitEnters' must be between 1 and 5";
        }

        if (p.Transcript is { } t && Array.IndexOf(Readers, t.Reader) < 0)
        {
            return $"field 'transcript.reader' must be one of {string.Join(", ", Readers.Skip(1))}, got '{t.Reader}'";
        }

        if (p.ReadyTimeoutSeconds is < 1 or > 600)
        {
            return "field 'readyTimeoutSeconds' must be between 1 and 600";
        }

        return null;
    }

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex IdPattern();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ProviderProfile))]
internal sealed partial class ProviderJsonContext : JsonSerializerContext;
