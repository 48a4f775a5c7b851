using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Events;
using AgentSidecar.Protocol;

namespace AgentSidecar.Cli;

/// <summary>A request of protocol v1: its method name with the records of its params and result.</summary>
internal sealed record RequestType<TParams, TResult>(string Method, JsonTypeInfo<TParams> Params, JsonTypeInfo<TResult> Result);

/// <summary>A notification of protocol v1: its method name with the record of its params.</summary>
internal sealed record NotificationType<TParams>(string Method, JsonTypeInfo<TParams> Params);

/// <summary>
/// Every message the CLI sends or reads, each name of <see cref="Methods"/> or
/// <see cref="Notifications"/> paired once with its records (as the extension's
/// <c>protocol/methods.ts</c> does), so a call site cannot send a method with the wrong params or
/// read its result as the wrong type.
/// </summary>
internal static class CliProtocol
{
    public static readonly RequestType<InitializeParams, InitializeResult> Initialize = new(Methods.Initialize, Wire.InitializeParams, Wire.InitializeResult);

    /// <summary>Its result is <c>null</c>.</summary>
    public static readonly RequestType<EmptyParams, JsonElement> Shutdown = new(Methods.Shutdown, Wire.EmptyParams, Wire.JsonElement);

    public static readonly RequestType<SessionStartParams, Session> SessionStart = new(Methods.SessionStart, Wire.SessionStartParams, Wire.Session);

    public static readonly RequestType<SessionListParams, SessionListResult> SessionList = new(Methods.SessionList, Wire.SessionListParams, Wire.SessionListResult);

    public static readonly RequestType<SessionIdParams, Session> SessionGet = new(Methods.SessionGet, Wire.SessionIdParams, Wire.Session);

    public static readonly RequestType<SessionIdParams, Session> SessionSuspend = new(Methods.SessionSuspend, Wire.SessionIdParams, Wire.Session);

    public static readonly RequestType<SessionIdParams, Session> SessionResume = new(Methods.SessionResume, Wire.SessionIdParams, Wire.Session);

    public static readonly RequestType<SessionIdParams, Session> SessionEnd = new(Methods.SessionEnd, Wire.SessionIdParams, Wire.Session);

    public static readonly RequestType<SessionResetParams, SessionResetResult> SessionReset = new(Methods.SessionReset, Wire.SessionResetParams, Wire.SessionResetResult);

    public static readonly RequestType<SessionCleanupParams, SessionCleanupResult> SessionCleanup = new(Methods.SessionCleanup, Wire.SessionCleanupParams, Wire.SessionCleanupResult);

    public static readonly RequestType<SessionImportParams, SessionImportResult> SessionImport = new(Methods.SessionImport, Wire.SessionImportParams, Wire.SessionImportResult);

    public static readonly RequestType<SessionSetTaskIdParams, Session> SessionSetTaskId = new(Methods.SessionSetTaskId, Wire.SessionSetTaskIdParams, Wire.Session);

    public static readonly RequestType<SessionAttachParams, SessionAttachResult> SessionAttach = new(Methods.SessionAttach, Wire.SessionAttachParams, Wire.SessionAttachResult);

    public static readonly RequestType<SessionDetachParams, EmptyResult> SessionDetach = new(Methods.SessionDetach, Wire.SessionDetachParams, Wire.EmptyResult);

    /// <summary>Read with <see cref="CliJsonContext"/>: each event's data as the sidecar sent it.</summary>
    public static readonly RequestType<SessionEventsParams, SessionEventsResult> SessionEvents = new(Methods.SessionEvents, Wire.SessionEventsParams, CliJsonContext.Default.SessionEventsResult);

    public static readonly RequestType<WorkerIdParams, WorkerScreenResult> WorkerScreen = new(Methods.WorkerScreen, Wire.WorkerIdParams, Wire.WorkerScreenResult);

    public static readonly RequestType<WorkerInputParams, EmptyResult> WorkerInput = new(Methods.WorkerInput, Wire.WorkerInputParams, Wire.EmptyResult);

    public static readonly RequestType<WorkerResizeParams, EmptyResult> WorkerResize = new(Methods.WorkerResize, Wire.WorkerResizeParams, Wire.EmptyResult);

    public static readonly RequestType<ChatSendParams, ChatSendResult> ChatSend = new(Methods.ChatSend, Wire.ChatSendParams, Wire.ChatSendResult);

    public static readonly RequestType<SessionIdParams, EmptyResult> ChatCancel = new(Methods.ChatCancel, Wire.SessionIdParams, Wire.EmptyResult);

    public static readonly RequestType<ChatApproveParams, ChatApproveResult> ChatApprove = new(Methods.ChatApprove, Wire.ChatApproveParams, Wire.ChatApproveResult);

    // Client → server notifications.
    public static readonly NotificationType<EmptyParams> Initialized = new(Methods.Initialized, Wire.EmptyParams);

    public static readonly NotificationType<EmptyParams> Exit = new(Methods.Exit, Wire.EmptyParams);


    // Server → client notifications.
    public static readonly NotificationType<SessionEventParams> SessionEvent = new(Notifications.SessionEvent, Wire.SessionEventParams);

    public static readonly NotificationType<SessionDetachedParams> SessionDetached = new(Notifications.SessionDetached, Wire.SessionDetachedParams);

    public static readonly NotificationType<SessionTransitionedParams> SessionTransitioned = new(Notifications.SessionTransitioned, Wire.SessionTransitionedParams);

    private static ProtocolJsonContext Wire => ProtocolJsonContext.Default;

    /// <summary>An event's payload as its record of the event catalogue (null if it is not that shape).</summary>
    public static T? Payload<T>(EventRecord e, JsonTypeInfo<T> payload) => JsonSerializer.Deserialize(e.Data.Utf8.Span, payload);
}

/// <summary>
/// What the CLI reads and prints beyond <see cref="ProtocolJsonContext"/>: the event payloads it
/// decodes (records of the event catalogue), <c>sessions show --events</c>' output, and indented
/// JSON for <c>--json</c>. Same naming as the wire; event data is kept verbatim.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    Converters = [typeof(VerbatimRawJsonConverter)])]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(SessionEventsResult))]
[JsonSerializable(typeof(SessionWithEvents))]
[JsonSerializable(typeof(ChatDeltaData))]
[JsonSerializable(typeof(ChatToolData))]
[JsonSerializable(typeof(ChatApprovalData))]
[JsonSerializable(typeof(ChatPlanData))]
[JsonSerializable(typeof(OutputData))]
[JsonSerializable(typeof(ExitData))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary><c>sessions show --events N --json</c>: the session and its last events.</summary>
internal sealed record SessionWithEvents(Session Session, IReadOnlyList<EventRecord> Events);

/// <summary>
/// Problem: <see cref="RawJsonConverter"/> re-encodes the data it reads, so escapes change (the
/// stored <c>"é"</c> came back as <c>"\u00E9"</c>) and <c>sessions show --events</c> no longer showed
/// an event's data as the sidecar sent it. Solution: keep the received text as it is.
/// </summary>
internal sealed class VerbatimRawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return new RawJson(Encoding.UTF8.GetBytes(doc.RootElement.GetRawText()));
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        new RawJsonConverter().Write(writer, value, options);
}
