using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentSidecar.Acp;

// The records of the Agent Client Protocol (version 1) this agent reads and writes, named as on the
// wire (camelCase, nulls left out). Only the fields it uses: ACP says unknown fields are ignored.
// Schema: @agentclientprotocol/sdk's schema/v1/schema.json; docs/acp.md says what each one maps to.

/// <summary>ACP method names (agent side) and the client methods it calls.</summary>
internal static class AcpMethods
{
    public const string Initialize = "initialize";
    public const string Authenticate = "authenticate";
    public const string SessionNew = "session/new";
    public const string SessionLoad = "session/load";
    public const string SessionList = "session/list";
    public const string SessionPrompt = "session/prompt";
    public const string SessionCancel = "session/cancel";
    public const string SessionSetConfigOption = "session/set_config_option";

    // Agent → client.
    public const string SessionUpdate = "session/update";
    public const string RequestPermission = "session/request_permission";
}

/// <summary>ACP's error codes beyond JSON-RPC's own (those are <see cref="Protocol.ErrorCodes"/>).</summary>
internal static class AcpErrorCodes
{
    /// <summary>"Resource not found": an unknown session.</summary>
    public const int ResourceNotFound = -32002;
}

/// <summary>What an error carries besides its message: the field at fault, the session, the reason.</summary>
internal sealed record AcpErrorData(string? Field = null, string? SessionId = null, string? Reason = null);

internal sealed record Implementation(string Name, string Version, string? Title = null);

internal sealed record InitializeRequest(int? ProtocolVersion, Implementation? ClientInfo);

internal sealed record PromptCapabilities(bool Image, bool Audio, bool EmbeddedContext);

internal sealed record McpCapabilities(bool Http, bool Sse);

/// <summary><c>{}</c>: a capability that is there.</summary>
internal sealed record Supported;

internal sealed record SessionCapabilities(Supported? List);

internal sealed record AgentCapabilities(bool LoadSession, PromptCapabilities PromptCapabilities, McpCapabilities McpCapabilities, SessionCapabilities SessionCapabilities);

internal sealed record InitializeResponse(int ProtocolVersion, AgentCapabilities AgentCapabilities, IReadOnlyList<JsonElement> AuthMethods, Implementation AgentInfo);

/// <summary>An MCP server the client offers: stdio (<c>command</c>, <c>args</c>, <c>env</c>), or http/sse (<c>type</c>, <c>url</c>).</summary>
internal sealed record McpServer(string? Name, string? Type, string? Command, string? Url, IReadOnlyList<string>? Args, IReadOnlyList<EnvVariable>? Env);

internal sealed record EnvVariable(string? Name, string? Value);

internal sealed record NewSessionRequest(string? Cwd, IReadOnlyList<McpServer>? McpServers);

internal sealed record NewSessionResponse(string SessionId, IReadOnlyList<SessionConfigOption> ConfigOptions);

internal sealed record LoadSessionRequest(string? SessionId, string? Cwd, IReadOnlyList<McpServer>? McpServers);

internal sealed record LoadSessionResponse(IReadOnlyList<SessionConfigOption> ConfigOptions);

internal sealed record ListSessionsRequest(string? Cwd, string? Cursor);

internal sealed record SessionInfo(string SessionId, string Cwd, string? Title, string? UpdatedAt);

internal sealed record ListSessionsResponse(IReadOnlyList<SessionInfo> Sessions, string? NextCursor);

internal sealed record SessionConfigSelectOption(string Value, string Name);

/// <summary>A <c>select</c> session config option (the agent, the model).</summary>
internal sealed record SessionConfigOption(string Id, string Name, string CurrentValue, IReadOnlyList<SessionConfigSelectOption> Options, string? Category = null, string? Description = null, string Type = "select");

internal sealed record SetSessionConfigOptionRequest(string? SessionId, string? ConfigId, JsonElement Value);

internal sealed record SetSessionConfigOptionResponse(IReadOnlyList<SessionConfigOption> ConfigOptions);

/// <summary>
/// A content block as a prompt holds it: <c>text</c>, <c>resource_link</c> (<c>uri</c>, <c>name</c>),
/// <c>resource</c> (an embedded <see cref="EmbeddedResource"/>), or <c>image</c>/<c>audio</c> (not accepted).
/// </summary>
internal sealed record ContentBlock(string Type, string? Text = null, string? Uri = null, string? Name = null, EmbeddedResource? Resource = null);

internal sealed record EmbeddedResource(string? Uri, string? Text, string? MimeType, string? Blob);

internal sealed record PromptRequest(string? SessionId, IReadOnlyList<ContentBlock>? Prompt);

/// <summary><c>end_turn</c> or <c>cancelled</c> (a failed turn is an error response).</summary>
internal sealed record PromptResponse(string StopReason);

internal static class StopReasons
{
    public const string EndTurn = "end_turn";
    public const string Cancelled = "cancelled";
}

internal sealed record CancelNotification(string? SessionId);

internal sealed record SessionNotification(string SessionId, SessionUpdate Update);

/// <summary>A <c>session/update</c>'s payload, discriminated by <c>sessionUpdate</c>.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "sessionUpdate")]
[JsonDerivedType(typeof(UserMessageChunk), "user_message_chunk")]
[JsonDerivedType(typeof(AgentMessageChunk), "agent_message_chunk")]
[JsonDerivedType(typeof(ToolCall), "tool_call")]
[JsonDerivedType(typeof(ToolCallUpdate), "tool_call_update")]
[JsonDerivedType(typeof(PlanUpdate), "plan")]
[JsonDerivedType(typeof(AvailableCommandsUpdate), "available_commands_update")]
[JsonDerivedType(typeof(ConfigOptionUpdate), "config_option_update")]
internal abstract record SessionUpdate;

internal sealed record UserMessageChunk(ContentBlock Content) : SessionUpdate;

internal sealed record AgentMessageChunk(ContentBlock Content) : SessionUpdate;

/// <summary>A tool call as it is first announced.</summary>
internal sealed record ToolCall(
    string ToolCallId,
    string Title,
    string Kind,
    string Status,
    IReadOnlyList<ToolCallContent>? Content,
    IReadOnlyList<ToolCallLocation>? Locations,
    JsonElement? RawInput,
    JsonElement? RawOutput) : SessionUpdate;

/// <summary>A change to a tool call (also the tool call a permission request is about).</summary>
internal sealed record ToolCallUpdate(
    string ToolCallId,
    string? Title = null,
    string? Kind = null,
    string? Status = null,
    IReadOnlyList<ToolCallContent>? Content = null,
    IReadOnlyList<ToolCallLocation>? Locations = null,
    JsonElement? RawInput = null,
    JsonElement? RawOutput = null) : SessionUpdate;

internal sealed record ToolCallLocation(string Path, int? Line);

/// <summary>A tool call's content: <c>content</c> (a block: the output) or <c>diff</c> (an edited file).</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ToolCallText), "content")]
[JsonDerivedType(typeof(ToolCallDiff), "diff")]
internal abstract record ToolCallContent;

internal sealed record ToolCallText(ContentBlock Content) : ToolCallContent;

internal sealed record ToolCallDiff(string Path, string? OldText, string NewText) : ToolCallContent;

internal sealed record AcpPlanEntry(string Content, string Priority, string Status);

internal sealed record PlanUpdate(IReadOnlyList<AcpPlanEntry> Entries) : SessionUpdate;

internal sealed record AvailableCommand(string Name, string Description);

internal sealed record AvailableCommandsUpdate(IReadOnlyList<AvailableCommand> AvailableCommands) : SessionUpdate;

internal sealed record ConfigOptionUpdate(IReadOnlyList<SessionConfigOption> ConfigOptions) : SessionUpdate;

internal sealed record PermissionOption(string OptionId, string Name, string Kind);

internal sealed record RequestPermissionRequest(string SessionId, ToolCallUpdate ToolCall, IReadOnlyList<PermissionOption> Options);

/// <summary><c>{outcome: {outcome: "selected", optionId}}</c> or <c>{outcome: {outcome: "cancelled"}}</c>.</summary>
internal sealed record RequestPermissionResponse(PermissionOutcome? Outcome);

internal sealed record PermissionOutcome(string? Outcome, string? OptionId);

/// <summary>
/// The ACP records with System.Text.Json's source generator, and the payloads of the protocol v1
/// chat events this agent reads (records of the event catalogue, camelCase like the wire).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AcpErrorData))]
[JsonSerializable(typeof(InitializeRequest))]
[JsonSerializable(typeof(InitializeResponse))]
[JsonSerializable(typeof(NewSessionRequest))]
[JsonSerializable(typeof(NewSessionResponse))]
[JsonSerializable(typeof(LoadSessionRequest))]
[JsonSerializable(typeof(LoadSessionResponse))]
[JsonSerializable(typeof(ListSessionsRequest))]
[JsonSerializable(typeof(ListSessionsResponse))]
[JsonSerializable(typeof(SetSessionConfigOptionRequest))]
[JsonSerializable(typeof(SetSessionConfigOptionResponse))]
[JsonSerializable(typeof(PromptRequest))]
[JsonSerializable(typeof(PromptResponse))]
[JsonSerializable(typeof(CancelNotification))]
[JsonSerializable(typeof(SessionNotification))]
[JsonSerializable(typeof(RequestPermissionRequest))]
[JsonSerializable(typeof(RequestPermissionResponse))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
[JsonSerializable(typeof(AgentSidecar.Core.Chat.ChatUserData))]
[JsonSerializable(typeof(AgentSidecar.Core.Chat.ChatDeltaData))]
[JsonSerializable(typeof(AgentSidecar.Core.Chat.ChatMessageData))]
[JsonSerializable(typeof(AgentSidecar.Core.Chat.ChatTurnData))]
[JsonSerializable(typeof(AgentSidecar.Core.Chat.ChatToolData))]
[JsonSerializable(typeof(AgentSidecar.Core.Chat.ChatApprovalData))]
[JsonSerializable(typeof(AgentSidecar.Core.Chat.ChatPlanData))]
internal sealed partial class AcpJsonContext : JsonSerializerContext;
