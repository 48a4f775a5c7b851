namespace AgentSidecar.Protocol;

/// <summary>Params that check themselves after deserialisation; failures are -32602 naming the field.</summary>
public interface IValidatable
{
    void Validate();
}

/// <summary>
/// Params whose requests must run in order with other requests on the same key (a session or a
/// worker). Requests with different keys run concurrently; requests without a key run at once.
/// </summary>
public interface IOrderedRequest
{
    string? OrderingKey { get; }
}

public static class Require
{
    public static string NonEmpty(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw RpcException.InvalidParams(field, $"'{field}' is required and must be a non-empty string");
        }

        return value;
    }

    public static void Range(int? value, string field, int min, int max)
    {
        if (value is { } v && (v < min || v > max))
        {
            throw RpcException.InvalidParams(field, $"'{field}' must be between {min} and {max}, got {v}");
        }
    }

    public static void NonNegative(long? value, string field)
    {
        if (value is < 0)
        {
            throw RpcException.InvalidParams(field, $"'{field}' must not be negative, got {value}");
        }
    }

    public static void OneOf(string? value, string field, params string[] allowed)
    {
        if (value is not null && Array.IndexOf(allowed, value) < 0)
        {
            throw RpcException.InvalidParams(field, $"'{field}' must be one of {string.Join(", ", allowed)}, got '{value}'");
        }
    }
}
