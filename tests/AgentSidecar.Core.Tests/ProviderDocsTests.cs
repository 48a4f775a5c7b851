using AgentSidecar.Core.Providers;

namespace AgentSidecar.Core.Tests;

public sealed class ProviderDocsTests
{
    [Fact]
    public void ProvidersDoc_ShowsTheBuiltInProfilesExactlyAsTheCodeHasThem()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "agent-sidecar.sln")))
        {
            dir = dir.Parent;
        }

        var doc = File.ReadAllText(Path.Combine(dir.FullName, "docs", "providers.md"));
        Assert.Contains(ProviderRegistry.ToJson(BuiltInProviders.All), doc, StringComparison.Ordinal);
    }

    [Fact]
    public void BuiltInProfiles_AreValid()
    {
        foreach (var p in BuiltInProviders.All)
        {
            Assert.Null(ProviderRegistry.Validate(p));
        }
    }
}
