using AgentSidecar.Core.Providers;

namespace AgentSidecar.Core.Tests;

public sealed class ProviderExpandTests
{
    private static ProviderRegistry Registry(Dictionary<string, string> env) => new(name => env.GetValueOrDefault(name));

    [Fact]
    public void Expand_UsesTheSidecarEnvironment_AndFallbacks()
    {
        var r = Registry(new() { ["HOME"] = "/home/u", ["CODEX_HOME"] = "/srv/codex" });
        Assert.Equal("/srv/codex/sessions", r.Expand("${CODEX_HOME:-~/.codex}/sessions"));
        Assert.Equal("/home/u/.claude/projects", r.Expand("~/.claude/projects"));
        Assert.Equal("fallback/x", Registry(new()).Expand("${NOPE:-fallback}/x"));
    }

    [Fact]
    public void Expand_WithTheProfileEnv_LetsItWin_AndExpandsItsValuesFromTheSidecar()
    {
        var r = Registry(new() { ["HOME"] = "/home/u", ["CODEX_HOME"] = "/srv/codex", ["WORK"] = "/work" });
        var profileEnv = new Dictionary<string, string> { ["CODEX_HOME"] = "${WORK}/codex-home" };
        Assert.Equal("/work/codex-home/sessions", r.Expand("${CODEX_HOME:-~/.codex}/sessions", profileEnv));
        Assert.Equal("/home/u/.codex/sessions", Registry(new() { ["HOME"] = "/home/u" }).Expand("${CODEX_HOME:-~/.codex}/sessions", new Dictionary<string, string>()));
        Assert.Equal("/p/.claude/projects", r.Expand("~/.claude/projects", new Dictionary<string, string> { ["HOME"] = "/p" }));
    }
}
