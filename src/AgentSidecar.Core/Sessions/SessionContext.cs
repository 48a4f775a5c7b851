using AgentSidecar.Core.Events;
using AgentSidecar.Core.Providers;
using AgentSidecar.Store;
using Microsoft.Extensions.Logging;

namespace AgentSidecar.Core.Sessions;

/// <summary>What every part of the session layer shares: the stores, the clock, the live registry and the change notifications.</summary>
internal sealed class SessionContext(SidecarOptions options, SidecarStore store, StoreWriter writer, EventHub hub, ProviderRegistry providers, TimeProvider clock, ILogger logger, IReadOnlyDictionary<string, string> environment)
{
    public SidecarOptions Options { get; } = options;

    public SidecarStore Store { get; } = store;

    public StoreWriter Writer { get; } = writer;

    public EventHub Hub { get; } = hub;

    public ProviderRegistry Providers { get; } = providers;

    public TimeProvider Clock { get; } = clock;

    public ILogger Logger { get; } = logger;

    /// <summary>The sidecar's own environment: the base of every worker's.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; } = environment;

    public SessionRegistry Registry { get; } = new();

    /// <summary>The unix socket clients can reach this sidecar on (recorded as the owner's address).</summary>
    public string? OwnerSocket { get; set; }

    public event Action<SessionView>? Changed;

    public event Action<SessionView, SessionView>? Transitioned;

    public Action? MetricsTrigger { get; set; }

    /// <summary>What this sidecar takes on (config.json, then the primary client).</summary>
    public SidecarLimits Limits { get; set; } = new();

    public long Now() => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    public SessionRow GetRow(string sessionId) =>
        Store.GetSession(sessionId) ?? throw new SidecarException(SidecarError.SessionNotFound, $"session '{sessionId}' not found");

    public SessionView View(LiveSession live)
    {
        var row = live.Row with { LastSeq = Hub.TryGet(live.Id)?.CommittedSeq ?? live.Row.LastSeq };
        return new SessionView(row, live.Workers.Select(w => w.Row).ToList(), live.Chat?.Busy ?? false, true) { Waiting = live.Chat?.Waiting };
    }

    public SessionView ViewStored(SessionRow row) => new(row, Store.ListWorkers(row.Id), false, false);

    /// <summary>The session as it is now: live here, or as stored.</summary>
    public SessionView Get(string sessionId) =>
        Registry.TryGet(sessionId, out var live) ? View(live) : ViewStored(GetRow(sessionId));

    public void NotifyChanged(SessionView view) => Changed?.Invoke(view);

    public void NotifyChanged(LiveSession live) => Changed?.Invoke(View(live));

    public void NotifyChanged(string sessionId) => Changed?.Invoke(Get(sessionId));

    public void NotifyTransitioned(SessionView previous, SessionView current) => Transitioned?.Invoke(previous, current);
}
