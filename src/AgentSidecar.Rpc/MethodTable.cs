using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentSidecar.Protocol;
using StreamJsonRpc;

namespace AgentSidecar.Rpc;

/// <summary>One method of the protocol: its name and how its params are read and checked.</summary>
public sealed class MethodBinding
{
    internal MethodBinding(string name, Func<JsonElement?, object> parse)
    {
        Name = name;
        Parse = parse;
    }

    public string Name { get; }

    /// <summary>Reads and validates the params; throws <see cref="RpcException"/> (-32602 naming the field).</summary>
    public Func<JsonElement?, object> Parse { get; }
}

/// <summary>
/// The protocol's method table, built from the handler types: every method marked with
/// StreamJsonRpc's <see cref="JsonRpcMethodAttribute"/> and shaped
/// <c>Task[&lt;TResult&gt;] M(TParams p, CancellationToken ct)</c>.
/// Why params are read here and not by StreamJsonRpc: protocol v1 answers params it cannot use with
/// -32602 and <c>data.field</c> naming the field (and runs each record's own checks), while
/// StreamJsonRpc answers a failed binding with its own message and no field. The parsed record is
/// handed to StreamJsonRpc as the request's argument, so nothing is parsed twice.
/// </summary>
public sealed class MethodTable
{
    private static readonly HashSet<string> Lifecycle = new(StringComparer.Ordinal) { Methods.Initialize, Methods.Initialized, Methods.Shutdown, Methods.Exit, Methods.HandOver };

    private readonly Dictionary<string, MethodBinding> _methods = new(StringComparer.Ordinal);

    /// <param name="options">The options of a source-generated context (naming policy and metadata).</param>
    public MethodTable(JsonSerializerOptions options, IEnumerable<Type> handlerTypes)
    {
        foreach (var type in handlerTypes)
        {
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                if (m.GetCustomAttribute<JsonRpcMethodAttribute>() is { Name: { } name })
                {
                    _methods.Add(name, Bind(options, m, name));
                }
            }
        }
    }

    public IReadOnlyCollection<string> Names => _methods.Keys;

    public MethodBinding? Find(string method) => _methods.GetValueOrDefault(method);

    /// <summary>Whether a method may be called before <c>initialize</c> (only the lifecycle methods).</summary>
    public static bool AllowedBeforeInitialize(string method) => Lifecycle.Contains(method);

    private static MethodBinding Bind(JsonSerializerOptions options, MethodInfo method, string name)
    {
        var ps = method.GetParameters();
        if (ps.Length != 2 || ps[1].ParameterType != typeof(CancellationToken) || !typeof(Task).IsAssignableFrom(method.ReturnType))
        {
            throw new InvalidOperationException($"{method.DeclaringType?.Name}.{method.Name}: handlers are Task[<T>] M(TParams, CancellationToken)");
        }

        // Resolved at first use: building the metadata of every params type up front cost ~70 ms
        // of the sidecar's cold start (measured), and initialize needs only its own.
        var paramsType = ps[0].ParameterType;
        var paramsInfo = new Lazy<JsonTypeInfo>(() => options.GetTypeInfo(paramsType));

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

        return new MethodBinding(name, Parse);
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
