using System.Text.Json;
using AgentSidecar.Core;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Sessions;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Hosting;

/// <summary>
/// <c>config.json</c> in the config directory, read once at start: the metrics endpoint and the
/// background cleanup. A bad file or value is logged and its defaults are used (the sidecar still
/// starts: an editor cannot show a sidecar that refused to run).
/// </summary>
internal sealed partial class SidecarConfig
{
    public MetricsOptions Metrics { get; init; } = new();

    public CleanupOptions Cleanup { get; init; } = new();

    public SidecarLimits Limits { get; init; } = new();

    /// <summary>How long the sidecar outlives its editor while sessions are live (<c>lingerSeconds</c>, default 600; 0: not at all).</summary>
    public TimeSpan Linger { get; init; } = DefaultLinger;

    public static readonly TimeSpan DefaultLinger = TimeSpan.FromMinutes(10);

    /// <summary><c>lingerSeconds</c>: a number of seconds from 0 to 7 days.</summary>
    public static TimeSpan ParseLinger(JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var s) && s is >= 0 and <= 7 * 24 * 3600
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException("'lingerSeconds' must be a number of seconds from 0 (the sidecar ends with its editor) to 604800 (7 days)");

    public static SidecarConfig Load(string configDir, ILogger logger)
    {
        var path = Path.Combine(configDir, "config.json");
        if (!File.Exists(path))
        {
            return new SidecarConfig();
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            LogRejected(logger, $"{path}: {ex.Message}");
            return new SidecarConfig();
        }

        using (doc)
        {
            var root = doc.RootElement;
            return new SidecarConfig
            {
                Metrics = Section(root, "metrics", e => MetricsOptions.Parse(e), new MetricsOptions()),
                Cleanup = Section(root, "cleanup", e => CleanupOptions.Parse(e), new CleanupOptions()),
                Limits = Section(root, "limits", e => SidecarLimits.Parse(e), new SidecarLimits()),
                Linger = Section(root, "lingerSeconds", ParseLinger, DefaultLinger),
            };
        }

        T Section<T>(JsonElement root, string name, Func<JsonElement, T> parse, T fallback)
        {
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(name, out var e))
            {
                return fallback;
            }

            try
            {
                return parse(e);
            }
            catch (Exception ex) when (ex is ArgumentException or JsonException)
            {
                LogRejected(logger, $"{path}: {name}: {ex.Message}");
                return fallback;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "config rejected: {Error}")]
    private static partial void LogRejected(ILogger logger, string error);
}
