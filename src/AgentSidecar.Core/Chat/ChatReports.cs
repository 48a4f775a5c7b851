namespace AgentSidecar.Core.Chat;

/// <summary>What a chat controller tells the session it belongs to.</summary>
/// <param name="Changed">Busy started or ended: clients should see the session again.</param>
/// <param name="AgentSessionId">The agent named its own id for the conversation (from its transcript).</param>
/// <param name="NewConversation">The agent started a new conversation after the one numbered so (a clear no typed key showed).</param>
/// <param name="Generation">The number of the session's current conversation.</param>
internal sealed record ChatReports(Action Changed, Action<string> AgentSessionId, Action<int> NewConversation, Func<int> Generation)
{
    /// <summary>Reports that go nowhere (tests of the controller alone).</summary>
    public static ChatReports None { get; } = new(() => { }, _ => { }, _ => { }, () => 0);
}
