using System.Text.Json;

namespace AgentSidecar.Core;

/// <summary>Reading settings sections (config.json, initializationOptions) with errors that name the field.</summary>
internal static class ConfigValues
{
    /// <summary><c>section.name</c> as a number in [min, max], or <paramref name="current"/> when absent.</summary>
    public static double Number(JsonElement e, string section, string name, double current, double min, double max)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            return current;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || d < min || d > max)
        {
            throw new ArgumentException($"'{section}.{name}' must be a number between {min} and {max}");
        }

        return d;
    }
}
