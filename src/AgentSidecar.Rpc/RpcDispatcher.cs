using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentSidecar.Protocol;

namespace AgentSidecar.Rpc;

/// <summary>A bound handler: parses params, runs the method, serialises the result.</summary>
public sealed class RpcHandler
{
    internal RpcHandler(string method, bool allowBeforeInitialize, Func<JsonElement?, object> parse, Func<object, RpcRequestContext, CancellationToken, Task<object?>> invoke, Func<object?, Utf8JsonWriter, bool> writeResult)
    {
        Method = method;
        AllowBeforeInitialize = allowBeforeInitialize;
        Parse = parse;
        Invoke = invoke;
        WriteResult = writeResult;
    }

    public string Method { get; }

    public bool AllowBeforeInitialize { get; }

    internal Func<JsonElement?, object> Parse { get; }

    internal Func<object, RpcRequestContext, CancellationToken, Task<object?>> Invoke { get; }

    internal Func<object?, Utf8JsonWriter, bool> WriteResult { get; }
}

/// <summary>
/// The method table. Handlers are plain methods marked <see cref="JsonRpcMethodAttribute"/>, bound
/// once at start with the source-generated JSON metadata for their params and result types.
/// Maps exceptions to wire errors in one place (<see cref="MapException"/>).
/// </summary>
public sealed class RpcDispatcher
{
    private readonly Dictionary<string, RpcHandler> _handlers = new(StringComparer.Ordinal);
    private readonly JsonSerializerOptions _options;
    private readonly Func<Exception, RpcException?>? _exceptionMapper;

    /// <param name="options">The options of a source-generated context (naming policy and metadata).</param>
    public RpcDispatcher(JsonSerializerOptions options, Func<Exception, RpcException?>? exceptionMapper = null)
    {
        _options = options;
        _exceptionMapper = exceptionMapper;
    }

    public IReadOnlyCollection<string> Methods => _handlers.Keys;

    public RpcHandler? Find(string method) => _handlers.GetValueOrDefault(method);

    /// <summary>Registers every <see cref="JsonRpcMethodAttribute"/> method of <paramref name="target"/>.</summary>
    public RpcDispatcher AddTarget(object target)
    {
        foreach (var m in target.GetType().GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
        {
            if (m.GetCustomAttribute<JsonRpcMethodAttribute>() is { } attr)
            {
                _handlers.Add(attr.Name, Bind(target, m, attr));
            }
        }

        return this;
    }

    public RpcException MapException(Exception ex) => ex switch
    {
        RpcException rpc => rpc,
        _ when _exceptionMapper?.Invoke(ex) is { } mapped => mapped,
        _ => new RpcException(ErrorCodes.InternalError, $"internal error: {ex.Message}"),
    };

    private RpcHandler Bind(object target, MethodInfo method, JsonRpcMethodAttribute attr)
    {
        var ps = method.GetParameters();
        var valid = ps.Length is 2 or 3
            && ps[^1].ParameterType == typeof(CancellationToken)
            && (ps.Length == 2 || ps[1].ParameterType == typeof(RpcRequestContext));
        if (!valid)
        {
            throw new InvalidOperationException($"{method.Name}: handlers take (TParams, [RpcRequestContext,] CancellationToken)");
        }

        // Resolved at first use: building the metadata of every params and result type up front
        // cost ~70 ms of the sidecar's cold start (measured), and initialize needs only its own.
        var paramsType = ps[0].ParameterType;
        var paramsInfo = new Lazy<JsonTypeInfo>(() => _options.GetTypeInfo(paramsType));

        Type? resultType = null;
        if (method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            resultType = method.ReturnType.GetGenericArguments()[0];
        }
        else if (method.ReturnType != typeof(Task))
        {
            throw new InvalidOperationException($"{method.Name}: handlers return Task or Task<T>");
        }

        var resultInfo = resultType is null ? null : new Lazy<JsonTypeInfo>(() => _options.GetTypeInfo(resultType));

        object Parse(JsonElement? element)
        {
            object? value;
            try
            {
                value = element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e
                    ? e.Deserialize(paramsInfo.Value)
                    : JsonSerializer.Deserialize("{}"u8, paramsInfo.Value);
            }
            catch (JsonException ex)
            {
                var field = FieldFromPath(ex.Path);
                throw RpcException.InvalidParams(field, $"invalid params: '{field}' {Describe(ex)}");
            }

            if (value is null)
            {
                throw RpcException.InvalidParams("params", "params must be an object");
            }

            (value as IValidatable)?.Validate();
            return value;
        }

        var withContext = ps.Length == 3;
        async Task<object?> Invoke(object p, RpcRequestContext ctx, CancellationToken ct)
        {
            var args = withContext ? new object?[] { p, ctx, ct } : new object?[] { p, ct };
            Task task;
            try
            {
                task = (Task)method.Invoke(target, args)!;
            }
            catch (TargetInvocationException tie) when (tie.InnerException is not null)
            {
                throw tie.InnerException;
            }

            await task.ConfigureAwait(false);
            return resultType is null ? null : task.GetType().GetProperty("Result")!.GetValue(task);
        }

        bool WriteResult(object? result, Utf8JsonWriter writer)
        {
            if (result is null || resultInfo is null)
            {
                writer.WriteNullValue();
                return true;
            }

            JsonSerializer.Serialize(writer, result, resultInfo.Value);
            return true;
        }

        return new RpcHandler(attr.Name, attr.AllowBeforeInitialize, Parse, Invoke, WriteResult);
    }

    private static string FieldFromPath(string? path)
    {
        // "$.cols" → "cols"; "$.status[1]" → "status"; "$" or null → "params".
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "params";
        }

        var p = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        var bracket = p.IndexOf('[', StringComparison.Ordinal);
        var dot = p.IndexOf('.', StringComparison.Ordinal);
        var end = (bracket, dot) switch
        {
            ( < 0, < 0) => p.Length,
            ( < 0, _) => dot,
            (_, < 0) => bracket,
            _ => Math.Min(bracket, dot),
        };
        var field = p[..end].Trim('\'', '[', ']');
        return field.Length == 0 ? "params" : field;
    }

    private static string Describe(JsonException ex)
    {
        // The serializer's message names CLR types; say it in wire terms.
        var msg = ex.Message;
        if (msg.Contains("could not be converted", StringComparison.Ordinal))
        {
            return "has the wrong type";
        }

        return "is not valid: " + (msg.Length > 200 ? msg[..200] : msg);
    }
}
