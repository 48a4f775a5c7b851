using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json.Serialization;

namespace AgentSidecar.EndToEnd.Tests;

/// <summary>
/// The built sidecar's handlers against their JSON context: the dispatcher resolves a method's params
/// and result metadata at the method's first call, so a type missing from the context would only
/// show as an internal error in front of a user. This finds it at build time instead. Protocol v1's
/// handlers use ProtocolJsonContext; the ACP agent's (namespace AgentSidecar.Acp) AcpJsonContext.
/// </summary>
public sealed class HandlerContractTests
{
    [Fact]
    public void EveryHandlersParamsAndResult_AreInTheProtocolJsonContext()
    {
        var dir = Path.GetDirectoryName(SidecarProcess.Executable)!;
        var load = new AssemblyLoadContext("sidecar-handlers", isCollectible: true);
        load.Resolving += (ctx, name) => File.Exists(Path.Combine(dir, name.Name + ".dll")) ? ctx.LoadFromAssemblyPath(Path.Combine(dir, name.Name + ".dll")) : null;
        try
        {
            var sidecar = load.LoadFromAssemblyPath(Path.Combine(dir, "agent-sidecar.dll"));
            var protocol = load.LoadFromAssemblyPath(Path.Combine(dir, "AgentSidecar.Protocol.dll"));
            static JsonSerializerContext Default(Assembly assembly, string type) => (JsonSerializerContext)assembly.GetType(type, throwOnError: true)!
                .GetProperty("Default", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            var protocolContext = Default(protocol, "AgentSidecar.Protocol.ProtocolJsonContext");
            var acpContext = Default(sidecar, "AgentSidecar.Acp.AcpJsonContext");

            var handlers = sidecar.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                .Select(m => (Method: m, Name: m.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.Name == "JsonRpcMethodAttribute")?.ConstructorArguments[0].Value as string))
                .Where(h => h.Name is not null)
                .ToList();
            Assert.True(handlers.Count >= 25, $"found only {handlers.Count} handlers");

            var missing = new List<string>();
            foreach (var (method, name) in handlers)
            {
                var types = new List<Type> { method.GetParameters()[0].ParameterType };
                if (method.ReturnType.IsGenericType)
                {
                    types.Add(method.ReturnType.GetGenericArguments()[0]);
                }

                var context = method.DeclaringType?.Namespace == "AgentSidecar.Acp" ? acpContext : protocolContext;
                missing.AddRange(types.Where(t => context.GetTypeInfo(t) is null).Select(t => $"{name}: {t.Name}"));
            }

            Assert.Empty(missing);
        }
        finally
        {
            load.Unload();
        }
    }
}
