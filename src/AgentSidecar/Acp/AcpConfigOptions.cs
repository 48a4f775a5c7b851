using AgentSidecar.Cli;
using AgentSidecar.Protocol;

namespace AgentSidecar.Acp;

/// <summary>
/// The session config options an ACP client shows as pickers: the agent (<c>provider</c>) and the
/// model. Changing either gives the ACP session another managed session in the same folder
/// (<c>session/start</c> with <c>replaces</c>; docs/acp.md), so the choice is the session's, not
/// the process's: the next editor that loads the session gets the agent and model it has now.
/// </summary>
internal static class AcpConfigOptions
{
    public const string Provider = "provider";
    public const string Model = "model";

    /// <summary>The model option's value for "no <c>--model</c>: the agent's own default".</summary>
    public const string DefaultModel = "default";

    /// <summary>How many of the models used before are offered besides the profile's.</summary>
    private const int UsedModels = 10;

    /// <summary>The options for a session running <paramref name="provider"/> with <paramref name="model"/>.</summary>
    public static async Task<IReadOnlyList<SessionConfigOption>> ForAsync(CliConnection connection, string provider, string? model, string? processModel)
    {
        var providers = connection.Server?.Providers ?? [];
        var agents = providers.Where(p => p.Available && p.Features.Contains("chat")).ToList();
        var agentChoices = agents.Select(p => new SessionConfigSelectOption(p.Id, p.DisplayName)).ToList();
        if (agentChoices.All(c => c.Value != provider))
        {
            agentChoices.Add(new SessionConfigSelectOption(provider, provider));
        }

        var models = new List<string>();
        void Offer(string? m)
        {
            if (m is { Length: > 0 } && m != DefaultModel && !models.Contains(m, StringComparer.Ordinal))
            {
                models.Add(m);
            }
        }

        Offer(model);
        Offer(processModel);
        foreach (var m in providers.FirstOrDefault(p => p.Id == provider)?.Models ?? [])
        {
            Offer(m);
        }

        foreach (var m in await UsedAsync(connection, provider).ConfigureAwait(false))
        {
            Offer(m);
        }

        var modelChoices = new List<SessionConfigSelectOption> { new(DefaultModel, "Default (the agent's own)") };
        modelChoices.AddRange(models.Select(m => new SessionConfigSelectOption(m, m)));
        return
        [
            new SessionConfigOption(Provider, "Agent", provider, agentChoices, Description: "The agent this session runs; another one starts a new conversation in this session."),
            new SessionConfigOption(Model, "Model", model ?? DefaultModel, modelChoices, Category: "model", Description: "The model the agent is started with; another one starts a new conversation in this session."),
        ];
    }

    /// <summary>The models the user's sessions of <paramref name="provider"/> ran with, newest first.</summary>
    private static async Task<IReadOnlyList<string>> UsedAsync(CliConnection connection, string provider)
    {
        var page = await connection.RequestAsync(CliProtocol.SessionList, new SessionListParams { Provider = provider, Limit = 200 }).ConfigureAwait(false);
        return page.Sessions.Select(s => s.Model).OfType<string>().Distinct(StringComparer.Ordinal).Take(UsedModels).ToList();
    }
}
