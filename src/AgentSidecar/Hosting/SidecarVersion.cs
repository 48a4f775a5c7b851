using System.Reflection;

namespace AgentSidecar.Hosting;

internal static class SidecarVersion
{
    /// <summary>This build's version ("0.1.0"), without the commit suffix.</summary>
    public static readonly string Value = Build.Split('+')[0];

    /// <summary>This build's version with its commit ("0.1.0+1a2b3c…"): sidecars hand clients over only within one build.</summary>
    public static string Build =>
        typeof(SidecarVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
