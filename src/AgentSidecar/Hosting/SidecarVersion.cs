using System.Reflection;

namespace AgentSidecar.Hosting;

internal static class SidecarVersion
{
    /// <summary>This build's version ("0.1.0"), without the commit suffix.</summary>
    public static readonly string Value =
        typeof(SidecarVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
