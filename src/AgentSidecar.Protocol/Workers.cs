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

    /// <summary>Variables added to the worker's environment (over the sidecar's own).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    public string? OrderingKey => SessionId;

    public void Validate()
    {
        Require.NonEmpty(SessionId, "sessionId");
        Require.OneOf(Kind ?? "terminal", "kind", "terminal");
        if (Command is not null)
        {
            Require.NonEmpty(Command, "command");
        }

        if (Name is not null)
        {
            Require.NonEmpty(Name, "name");
        }

        foreach (var (key, value) in Env ?? new Dictionary<string, string>())
        {
            // execve takes NAME=value strings ending in NUL: a name with '=' or NUL, or a value with
            // NUL, would set another variable than the one asked for (or cut it short).
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
            {
                throw RpcException.InvalidParams("env", $"'env' names must be non-empty and hold no '=' or NUL, got '{key.Replace("\0", "\\0", StringComparison.Ordinal)}'");
            }

            if (value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                throw RpcException.InvalidParams("env", $"'env.{key}' must be a string without NUL characters");
            }
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
