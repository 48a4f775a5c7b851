using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AgentSidecar.Protocol;

/// <summary>The source-generated serialiser for every wire type (camelCase, nulls omitted).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(EmptyParams))]
[JsonSerializable(typeof(EmptyResult))]
[JsonSerializable(typeof(InitializeParams))]
[JsonSerializable(typeof(InitializeResult))]
[JsonSerializable(typeof(HandOverParams))]
[JsonSerializable(typeof(HandOverResult))]
[JsonSerializable(typeof(CancelParams))]
[JsonSerializable(typeof(LogMessageParams))]
[JsonSerializable(typeof(ProviderListResult))]
[JsonSerializable(typeof(Session))]
[JsonSerializable(typeof(SessionStartParams))]
[JsonSerializable(typeof(SessionListParams))]
[JsonSerializable(typeof(SessionListResult))]
[JsonSerializable(typeof(SessionIdParams))]
[JsonSerializable(typeof(SessionResetParams))]
[JsonSerializable(typeof(SessionResetResult))]
[JsonSerializable(typeof(SessionCleanupParams))]
[JsonSerializable(typeof(SessionCleanupResult))]
[JsonSerializable(typeof(SessionImportParams))]
[JsonSerializable(typeof(SessionImportResult))]
[JsonSerializable(typeof(SessionSetTaskIdParams))]
[JsonSerializable(typeof(SessionDeleteResult))]
[JsonSerializable(typeof(SessionAttachParams))]
[JsonSerializable(typeof(SessionAttachResult))]
[JsonSerializable(typeof(SessionDetachParams))]
[JsonSerializable(typeof(SessionEventsParams))]
[JsonSerializable(typeof(SessionEventsResult))]
[JsonSerializable(typeof(SessionDetachedParams))]
[JsonSerializable(typeof(SessionChangedParams))]
[JsonSerializable(typeof(SessionTransitionedParams))]
[JsonSerializable(typeof(SessionEventParams))]
[JsonSerializable(typeof(WorkerStartParams))]
[JsonSerializable(typeof(WorkerIdParams))]
[JsonSerializable(typeof(WorkerInputParams))]
[JsonSerializable(typeof(WorkerResizeParams))]
[JsonSerializable(typeof(WorkerListResult))]
[JsonSerializable(typeof(WorkerScreenResult))]
[JsonSerializable(typeof(Worker))]
[JsonSerializable(typeof(ChatSendParams))]
[JsonSerializable(typeof(ChatSendResult))]
[JsonSerializable(typeof(ChatApproveParams))]
[JsonSerializable(typeof(ChatApproveResult))]
[JsonSerializable(typeof(ChatHistoryParams))]
[JsonSerializable(typeof(ChatHistoryResult))]
[JsonSerializable(typeof(SessionClearResult))]
[JsonSerializable(typeof(MetricsStatusResult))]
[JsonSerializable(typeof(MetricsFlushResult))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
