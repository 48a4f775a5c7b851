namespace AgentSidecar.Protocol;

public sealed record WorkerStartParams : IValidatable, IOrderedRequest
{
    public string? SessionId { get; init; }

    public string? Kind { get; init; }

    public string? Name { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public string? Cwd { get; init; }

    public int? Cols { get; init; }

    public int? Rows { get; init; }

    public string? OrderingKey => SessionId;

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        Require.OneOf(Kind ?? "terminal", "kind", "terminal");
        if (Command is not null)
        {
            Require.NonEmpty(Command, "command");
        }

        Require.Range(Cols, "cols", SessionStartParams.MinCols, SessionStartParams.MaxCols);
        Require.Range(Rows, "rows", SessionStartParams.MinRows, SessionStartParams.MaxRows);
    }
}

public sealed record WorkerIdParams : IValidatable, IOrderedRequest
{
    public string? WorkerId { get; init; }

    public string? OrderingKey => WorkerId;

    public void Validate() => Require.NonEmpty(WorkerId, "workerId");
}

public sealed record WorkerInputParams : IValidatable, IOrderedRequest
{
    public string? WorkerId { get; init; }

    public string? Data { get; init; }

    public string? OrderingKey => WorkerId;

    public void Validate()
    {
        Require.NonEmpty(WorkerId, "workerId");
        if (Data is null)
        {
            throw RpcException.InvalidParams("data", "'data' is required (a string to type into the terminal)");
        }
    }
}

public sealed record WorkerResizeParams : IValidatable, IOrderedRequest
{
    public string? WorkerId { get; init; }

    public int? Cols { get; init; }

    public int? Rows { get; init; }

    public string? OrderingKey => WorkerId;

    public void Validate()
    {
        Require.NonEmpty(WorkerId, "workerId");
        if (Cols is null)
        {
            throw RpcException.InvalidParams("cols", "'cols' is required");
        }

        if (Rows is null)
        {
            throw RpcException.InvalidParams("rows", "'rows' is required");
        }

        Require.Range(Cols, "cols", SessionStartParams.MinCols, SessionStartParams.MaxCols);
        Require.Range(Rows, "rows", SessionStartParams.MinRows, SessionStartParams.MaxRows);
    }
}

public sealed record WorkerListResult
{
    public required IReadOnlyList<Worker> Workers { get; init; }
}

public sealed record CursorPosition
{
    public int Row { get; init; }

    public int Col { get; init; }
}

public sealed record WorkerScreenResult
{
    public int Cols { get; init; }

    public int Rows { get; init; }

    public required IReadOnlyList<string> Lines { get; init; }

    public required CursorPosition Cursor { get; init; }

    public bool AlternateScreen { get; init; }

    /// <summary>The screen as ANSI text that redraws it in a fresh terminal (colours, cursor).</summary>
    public string? Ansi { get; init; }

    /// <summary>The last event seq the screen includes; stream live events after it.</summary>
    public long Seq { get; init; }
}
