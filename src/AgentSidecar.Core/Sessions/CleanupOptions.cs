using System.Text.Json;

namespace AgentSidecar.Core.Sessions;

/// <summary><c>cleanup</c> in config.json or initializationOptions: the background cleanup and the defaults of <c>session/cleanup</c>.</summary>
public sealed record CleanupOptions
{
    /// <summary>Live sessions with no input, output or turn for this long are suspended.</summary>
    public double IdleSeconds { get; init; } = 600;

    /// <summary>Ended sessions older than this are deleted with their history.</summary>
    public double PurgeOlderThanDays { get; init; } = 30;

    /// <summary>How often the background cleanup (and the check for sessions of dead sidecars) runs; 0 turns it off.</summary>
    public double IntervalSeconds { get; init; } = 60;

    /// <summary>Reads <c>{idleSeconds, purgeOlderThanDays, intervalSeconds}</c>; errors name the field.</summary>
    public static CleanupOptions Parse(JsonElement e, CleanupOptions? baseOptions = null)
    {
        var o = baseOptions ?? new CleanupOptions();
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("'cleanup' must be an object");
        }

        return o with
        {
            IdleSeconds = ConfigValues.Number(e, "cleanup", "idleSeconds", o.IdleSeconds, 0, 365 * 86400),
            PurgeOlderThanDays = ConfigValues.Number(e, "cleanup", "purgeOlderThanDays", o.PurgeOlderThanDays, 0, 36500),
            IntervalSeconds = ConfigValues.Number(e, "cleanup", "intervalSeconds", o.IntervalSeconds, 0, 86400),
        };
    }
}
