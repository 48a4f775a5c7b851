using AgentSidecar.Store;

namespace AgentSidecar.Core.Sessions;

/// <summary>A session whose processes this sidecar runs.</summary>
internal sealed class LiveSession(SessionRow row)
{
    private readonly object _lock = new();
    private readonly List<LiveWorker> _workers = [];

    public string Id => Row.Id;

    public SessionRow Row { get; set; } = row;

    /// <summary>Serialises the session's state changes (start, end, worker exits).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Set while the session is being ended or suspended: worker exits then change nothing else.</summary>
    public bool Stopping { get; set; }

    /// <summary>Chat with the agent, for providers that describe one (null for a plain shell).</summary>
    public Chat.ChatController? Chat { get; set; }

    public Providers.ProviderProfile? Profile { get; set; }

    public LiveWorker? Agent
    {
        get
        {
            lock (_lock)
            {
                return _workers.Find(w => w.Row.Kind == "agent");
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
}

/// <summary>A session as the core shows it: its row, its workers, and whether it runs here.</summary>
public sealed record SessionView(SessionRow Row, IReadOnlyList<WorkerRow> Workers, bool Busy, bool Live);

/// <summary>What <c>session/start</c> asks for, already validated for shape.</summary>
public sealed record StartSessionRequest
{
    public required string Workspace { get; init; }

    public required string Provider { get; init; }

    public string? Model { get; init; }

    public string? TaskId { get; init; }

    public string Kind { get; init; } = "quick";

    public string? Title { get; init; }

    public bool Reuse { get; init; } = true;

    public int? Cols { get; init; }

    public int? Rows { get; init; }
}

public sealed record StartWorkerRequest
{
    public required string SessionId { get; init; }

    public string? Name { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public string? Cwd { get; init; }

    public int? Cols { get; init; }

    public int? Rows { get; init; }
}
