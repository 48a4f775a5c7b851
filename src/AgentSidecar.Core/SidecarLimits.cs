using System.Text.Json;

namespace AgentSidecar.Core;

/// <summary>
/// How much one sidecar takes on, so that no client (a bug, a loop, a careful attacker) can make it
/// slow for everyone: past a limit the request gets 1008 naming it (<c>data.limit</c>, <c>data.max</c>).
/// Set in config.json or the primary client's <c>initializationOptions</c> as <c>limits</c>.
/// Problem (probed): 10,000 attachments on one connection took the sidecar from 55 MB to 697 MB and
/// keystroke echo in every session from 0.02 s to 0.8 s; 1,500 live sessions meant 1,519 threads.
/// </summary>
public sealed record SidecarLimits
{
    /// <summary>Live sessions (created or active) in this sidecar.</summary>
    public int Sessions { get; init; } = 2000;

    /// <summary>Running workers in one session (the agent and its shells).</summary>
    public int WorkersPerSession { get; init; } = 64;

    /// <summary>Attachments one client connection holds at once.</summary>
    public int AttachmentsPerConnection { get; init; } = 1000;

    /// <summary>Attachments all clients hold at once.</summary>
    public int Attachments { get; init; } = 10000;

    /// <summary>Reads <c>{sessions?, workersPerSession?, attachmentsPerConnection?, attachments?}</c> over <paramref name="baseLimits"/>.</summary>
    public static SidecarLimits Parse(JsonElement e, SidecarLimits? baseLimits = null)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("'limits' must be an object: {\"sessions\": n, \"workersPerSession\": n, \"attachmentsPerConnection\": n, \"attachments\": n}");
        }

        var l = baseLimits ?? new SidecarLimits();
        int Read(string name, int current) =>
            !e.TryGetProperty(name, out var v) ? current
            : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 1 ? n
            : throw new ArgumentException($"'limits.{name}' must be a whole number of at least 1");
        return new SidecarLimits
        {
            Sessions = Read("sessions", l.Sessions),
            WorkersPerSession = Read("workersPerSession", l.WorkersPerSession),
            AttachmentsPerConnection = Read("attachmentsPerConnection", l.AttachmentsPerConnection),
            Attachments = Read("attachments", l.Attachments),
        };
    }

    /// <summary>1008 for <paramref name="limit"/> (its name in <c>limits</c>).</summary>
    public static SidecarException Reached(string limit, int max, string what) =>
        new(SidecarError.LimitReached, $"{what}: the limit is {max} (limits.{limit} in config.json or initializationOptions)", new Dictionary<string, object?> { ["limit"] = limit, ["max"] = max });
}
