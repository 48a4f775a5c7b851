using AgentSidecar.Core.Events;
using AgentSidecar.Core.Providers;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentSidecar.Core.Tests;

/// <summary>A live session's row on a real store: no change computed from an old copy can undo a transition.</summary>
public sealed class LiveSessionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("live-session-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A real store and writer, and one live session in it (status <paramref name="status"/>).</summary>
    private async Task<(SessionContext Ctx, SidecarStore Store, StoreWriter Writer, LiveSession Live)> LiveAsync(string status)
    {
        var store = SidecarStore.Open(Path.Combine(_dir, "sidecar.db"));
        var writer = new StoreWriter(store, TimeProvider.System);
        var hub = new EventHub(writer);
        var ctx = new SessionContext(new SidecarOptions { DataDir = _dir }, store, writer, hub, new ProviderRegistry(_ => null), TimeProvider.System, NullLogger.Instance, new Dictionary<string, string>());
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var row = new SessionRow
        {
            Id = "s1", Key = "k", Workspace = "/ws", Provider = "p", Kind = SessionKinds.Quick, Status = status,
            CreatedAt = now, UpdatedAt = now, Cols = 80, Rows = 24, LastActivityAt = now,
        };
        await writer.WriteAsync(w =>
        {
            w.InsertSession(row);
            return 0;
        });
        var live = new LiveSession(row) { Tracking = true };
        hub.Stream(row.Id, 0);
        ctx.Registry.Add(live);
        return (ctx, store, writer, live);
    }

    [Fact(Timeout = 30000)]
    public async Task AgentSessionIdReportedDuringATransition_LeavesTheClearedRowCompletedAndLinked()
    {
        var (ctx, store, writer, live) = await LiveAsync(SessionStatuses.Active);
        using var ownedWriter = writer;
        var transitions = new SessionTransitions(ctx);

        // The writer is held up; the transition queues its commit, then the agent names its id.
        using var release = new ManualResetEventSlim();
        var blocker = writer.WriteAsync(_ =>
        {
            release.Wait(TestContext.Current.CancellationToken);
            return 0;
        });
        var transition = transitions.TransitionAsync(live, TransitionTriggers.Terminal, live.Generation);
        var agentId = live.SetAgentSessionIdAsync(writer, "s1", "agent-conversation-1", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        release.Set();
        await blocker;
        var (previous, current) = await transition;
        await agentId;

        var old = store.GetSession("s1")!;
        Assert.Equal(SessionStatuses.Completed, old.Status);
        Assert.Equal(current.Row.Id, old.TransitionedTo);
        Assert.Equal("s1", previous.Row.Id);
        var fresh = store.GetSession(current.Row.Id)!;
        Assert.Equal(SessionStatuses.Active, fresh.Status);
        Assert.Equal("s1", fresh.TransitionedFrom);
        Assert.Null(fresh.AgentSessionId);
        Assert.Equal(current.Row.Id, live.Row.Id);
    }

    [Fact(Timeout = 30000)]
    public async Task AStartThatComesToActivateAfterItsAgentEndedTheSession_WritesNothing()
    {
        var (ctx, store, writer, live) = await LiveAsync(SessionStatuses.Created);
        using var ownedWriter = writer;
        var worktrees = new SessionWorktrees(ctx);
        var stopper = new SessionStopper(ctx, worktrees);
        var events = new SessionEvents(ctx);
        var transitions = new SessionTransitions(ctx);
        var launcher = new SessionLauncher(ctx, new WorkerSpawner(ctx, events, stopper), stopper, new OrphanRecovery(ctx), new ChatWiring(ctx, transitions), new SessionReplacement(ctx, stopper));

        // The agent exited at once: the stop path ended the session before the start got to "active".
        await stopper.StopAsync(live, SessionStatuses.Failed, "the agent exited (exit code 1)", Metrics.MetricsRecords.Failed);
        Assert.False(await launcher.ActivateAsync(live, null, writeStart: false));

        Assert.Equal(SessionStatuses.Failed, store.GetSession("s1")!.Status);
        var statuses = store.ReadEvents("s1", 0, 100, [Channels.System]).Where(e => e.Type == EventTypes.Status).ToList();
        Assert.Single(statuses);
        Assert.Single(store.ReadEvents("s1", 0, 100, [Channels.Metrics]), e => e.Type == EventTypes.End);
    }

    [Fact(Timeout = 30000)]
    public async Task TheSameClearSeenTwice_TransitionsOnce_ButTwoTypedClearsAreTwo()
    {
        var (ctx, _, writer, live) = await LiveAsync(SessionStatuses.Active);
        using var ownedWriter = writer;
        var transitions = new SessionTransitions(ctx);

        // The agent reports the new conversation first; the typed clear it came from is the same clear.
        var seen = live.Generation;
        await transitions.TransitionAsync(live, TransitionTriggers.Agent, seen);
        await transitions.TransitionAsync(live, TransitionTriggers.Terminal, seen);
        Assert.Equal(1, live.Generation);

        // Two clears typed back to back (both before either moved on) are two.
        var typed = live.Generation;
        await transitions.TransitionAsync(live, TransitionTriggers.Terminal, typed);
        await transitions.TransitionAsync(live, TransitionTriggers.Terminal, typed);
        Assert.Equal(3, live.Generation);

        // A late report of a conversation that was already moved on from changes nothing.
        await transitions.TransitionAsync(live, TransitionTriggers.Agent, typed);
        Assert.Equal(3, live.Generation);
    }
}
