using System.Text.Json.Serialization.Metadata;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Metrics;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Store;

namespace AgentSidecar.Core.Events;

/// <summary>The <c>type</c> of each event, by channel (<see cref="Channels"/>).</summary>
public static class EventTypes
{
    // pty
    public const string Output = "output";
    public const string Resize = "resize";
    public const string Exit = "exit";

    // system
    public const string Status = "status";
    public const string Worker = "worker";
    public const string Error = "error";
    public const string Worktree = "worktree";
    public const string Transition = "transition";

    // chat
    public const string User = ChatEvents.UserType;
    public const string Delta = ChatEvents.DeltaType;
    public const string Message = ChatEvents.MessageType;
    public const string Turn = ChatEvents.TurnType;
    public const string Tool = ChatEvents.ToolType;
    public const string Approval = ChatEvents.ApprovalType;
    public const string Plan = ChatEvents.PlanType;

    // metrics
    public const string Start = MetricsRecords.StartKind;
    public const string End = MetricsRecords.EndKind;
    public const string Usage = MetricsRecords.UsageKind;
}

/// <summary>One kind of event: where it goes, what its payload is, what it means.</summary>
internal sealed record EventKind(string Channel, string Type, JsonTypeInfo Payload, string Meaning);

/// <summary>
/// Every event the sidecar writes, with its payload record: the one list to read for "what does a
/// <c>chat/turn</c> carry". docs/protocol.md describes them; the JSON examples under
/// tests/testdata/protocol/events/ are checked against this list from C# and from the extension.
/// </summary>
internal static class EventCatalogue
{
    public static IReadOnlyList<EventKind> All { get; } =
    [
        new(Channels.Pty, EventTypes.Output, EventJsonContext.Default.OutputData, "terminal output as text, up to 64 KiB per event"),
        new(Channels.Pty, EventTypes.Resize, EventJsonContext.Default.ResizeData, "the worker's terminal changed size"),
        new(Channels.Pty, EventTypes.Exit, EventJsonContext.Default.ExitData, "the worker exited (after its last output)"),
        new(Channels.System, EventTypes.Status, EventJsonContext.Default.StatusData, "the session's status changed"),
        new(Channels.System, EventTypes.Worker, EventJsonContext.Default.WorkerEventData, "a worker started"),
        new(Channels.System, EventTypes.Error, EventJsonContext.Default.ErrorData, "something failed; the tail of the screen or the lost bytes say more"),
        new(Channels.System, EventTypes.Worktree, EventJsonContext.Default.WorktreeData, "the session's worktree was created, removed or kept"),
        new(Channels.System, EventTypes.Transition, TransitionJsonContext.Default.TransitionData, "a clear: the last event of the old session and the first of the next"),
        new(Channels.Chat, EventTypes.User, ChatJsonContext.Default.ChatUserData, "a message to the agent"),
        new(Channels.Chat, EventTypes.Delta, ChatJsonContext.Default.ChatDeltaData, "answer text appended while the turn runs"),
        new(Channels.Chat, EventTypes.Message, ChatJsonContext.Default.ChatMessageData, "the whole answer"),
        new(Channels.Chat, EventTypes.Turn, ChatJsonContext.Default.ChatTurnData, "the turn ended"),
        new(Channels.Chat, EventTypes.Tool, ChatJsonContext.Default.ChatToolData, "a tool call of the turn (a command, an edit, a read…), whole, on every change of state"),
        new(Channels.Chat, EventTypes.Approval, ChatJsonContext.Default.ChatApprovalData, "the agent asks before it acts; written again when answered"),
        new(Channels.Chat, EventTypes.Plan, ChatJsonContext.Default.ChatPlanData, "the agent's plan for the turn, whole, on every change"),
        new(Channels.Metrics, EventTypes.Start, MetricsJsonContext.Default.MetricsRecord, "the START record of a tracking period"),
        new(Channels.Metrics, EventTypes.End, MetricsJsonContext.Default.MetricsRecord, "the END record of a tracking period"),
        new(Channels.Metrics, EventTypes.Usage, MetricsJsonContext.Default.MetricsRecord, "the usage of one turn"),
    ];

    public static EventKind? Find(string channel, string type) => All.FirstOrDefault(k => k.Channel == channel && k.Type == type);
}
