using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>
/// A session whose processes this sidecar runs. It owns its row: every change goes through
/// <see cref="UpdateAsync"/> (or a targeted single-column write) under its row gate, so a change
/// computed from an old copy of the row can never put an ended or cleared session back.
/// </summary>
internal sealed class LiveSession(SessionRow row)
{
    private readonly object _lock = new();
    private readonly List<LiveWorker> _workers = [];
    private SessionRow _row = row;
    private int _generation;

    public string Id => Row.Id;

    /// <summary>The row as last committed (plus the in-memory last-activity time).</summary>
    public SessionRow Row
    {
        get
        {
            lock (_lock)
            {
                return _row;
            }
        }
    }

    /// <summary>Serialises changes of the row (held only across one commit).</summary>
    private SemaphoreSlim RowGate { get; } = new(1, 1);

    /// <summary>Serialises the session's lifecycle steps (start, stop, worker starts, transitions).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Set (under <see cref="Gate"/>) once the session is being ended or suspended; never cleared.</summary>
    public bool Stopping { get; set; }

    /// <summary>The workers that were running when a stop whose final commit failed stopped them (see <c>SessionStopper</c>).</summary>
    public IReadOnlySet<string> StoppedUnrecorded { get; set; } = new HashSet<string>();

    /// <summary>
    /// Whether this period of the session has a START metric (a new session from its insert on, a
    /// resumed one only once it is active again), so a stop writes END only after a START.
    /// </summary>
    public bool Tracking { get; set; }

    /// <summary>Counts the conversations the agent has had in this process: a transition moves it on.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>The conversation whose end the agent itself reported and that was moved on from (-1: none yet).</summary>
    public int AgentMovedOnFrom { get; set; } = -1;

    /// <summary>Chat with the agent, for providers that describe one (null for a plain shell).</summary>
    public Chat.ChatController? Chat { get; set; }

    public Providers.ProviderProfile? Profile { get; set; }

    public LiveWorker? Agent
    {
        get
        {
            lock (_lock)
            {
                return _workers.Find(w => w.Row.Kind == WorkerKinds.Agent);
            }
        }
    }

    public List<LiveWorker> Workers
    {
        get
        {
            lock (_lock)
            {
                return [.. _workers];
            }
        }
    }

    public void Add(LiveWorker worker)
    {
        lock (_lock)
        {
            _workers.Add(worker);
        }
    }

    /// <summary>
    /// The one way to change the row: <paramref name="change"/> sees the current row and returns the
    /// next one (or null: nothing to do); the row and whatever <paramref name="alsoInCommit"/> writes
    /// commit together, and only then does memory change. Changes never interleave.
    /// </summary>
    public async Task<SessionRow?> UpdateAsync(StoreWriter writer, Func<SessionRow, SessionRow?> change, Action<WriteContext, SessionRow, SessionRow>? alsoInCommit = null)
    {
        await RowGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var before = Row;
            if (change(before) is not { } after)
            {
                return null;
            }

            await writer.WriteAsync(ctx =>
            {
                if (after.Id == before.Id)
                {
                    ctx.UpdateSession(after);
                }

                alsoInCommit?.Invoke(ctx, before, after);
                return 0;
            }).ConfigureAwait(false);
            lock (_lock)
            {
                // Keep activity recorded in memory meanwhile (it is not worth a write of its own).
                _row = after with { LastActivityAt = Math.Max(after.LastActivityAt, after.Id == _row.Id ? _row.LastActivityAt : 0) };
                if (after.Id != before.Id)
                {
                    _generation++;
                }
            }

            return after;
        }
        finally
        {
            RowGate.Release();
        }
    }

    /// <summary>
    /// Records the agent's own id for the conversation of session <paramref name="sessionId"/> with a
    /// targeted update of that one column: if the session has moved on (a /clear) meanwhile, the
    /// ended row keeps its status and link, and memory is left alone.
    /// </summary>
    public async Task SetAgentSessionIdAsync(StoreWriter writer, string sessionId, string agentSessionId, long now)
    {
        await RowGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await writer.WriteAsync(ctx =>
            {
                ctx.SetAgentSessionId(sessionId, agentSessionId, now);
                return 0;
            }).ConfigureAwait(false);
            lock (_lock)
            {
                if (_row.Id == sessionId)
                {
                    _row = _row with { AgentSessionId = agentSessionId, UpdatedAt = now };
                }
            }
        }
        finally
        {
            RowGate.Release();
        }
    }

    /// <summary>Notes activity in memory; it is written with the next change of the row.</summary>
    public void Touch(long now)
    {
        lock (_lock)
        {
            _row = _row with { LastActivityAt = Math.Max(_row.LastActivityAt, now) };
        }
    }
}

/// <summary>A session as the core shows it: its row, its workers, and whether it runs here.</summary>
public sealed record SessionView(SessionRow Row, IReadOnlyList<WorkerRow> Workers, bool Busy, bool Live)
{
    /// <summary>While busy: what the session waits for (<c>approval</c>), else null.</summary>
    public string? Waiting { get; init; }
}
