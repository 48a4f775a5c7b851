using System.Text.Json;
using AgentSidecar.Cli;
using AgentSidecar.Protocol;
using StreamJsonRpc;

namespace AgentSidecar.Acp;

/// <summary>
/// The one place where errors become ACP error responses (docs/acp.md, "Errors"): each is a
/// <see cref="LocalRpcException"/> with a code and a small <see cref="AcpErrorData"/>; no stack trace
/// goes on the wire.
/// </summary>
internal static class AcpErrors
{
    public static LocalRpcException InvalidParams(string field, string message) =>
        new(message) { ErrorCode = ErrorCodes.InvalidParams, ErrorData = new AcpErrorData(Field: field) };

    public static LocalRpcException UnknownSession(string sessionId) =>
        new($"Resource not found: session {sessionId}") { ErrorCode = AcpErrorCodes.ResourceNotFound, ErrorData = new AcpErrorData(SessionId: sessionId) };

    public static LocalRpcException PromptRunning(string sessionId) =>
        new($"Invalid request: a prompt is already running in session {sessionId}; wait for its result or send session/cancel") { ErrorCode = ErrorCodes.InvalidRequest, ErrorData = new AcpErrorData(SessionId: sessionId) };

    /// <summary>The session cannot take this request now (<paramref name="why"/>); nothing changed.</summary>
    public static LocalRpcException Busy(string sessionId, string why) =>
        new($"Invalid request: session {sessionId} is busy: {why}") { ErrorCode = ErrorCodes.InvalidRequest, ErrorData = new AcpErrorData(SessionId: sessionId, Reason: why) };

    public static LocalRpcException TurnFailed(string sessionId, string reason) =>
        new($"The turn failed: {reason}") { ErrorCode = ErrorCodes.InternalError, ErrorData = new AcpErrorData(SessionId: sessionId, Reason: reason) };

    public static LocalRpcException Internal(string message, string? sessionId = null) =>
        new(message) { ErrorCode = ErrorCodes.InternalError, ErrorData = new AcpErrorData(SessionId: sessionId, Reason: message) };

    /// <summary>A protocol v1 error as the ACP client should see it.</summary>
    public static LocalRpcException From(CliRpcException ex, string? sessionId) => ex.Code switch
    {
        ErrorCodes.SessionNotFound when sessionId is not null => UnknownSession(sessionId),
        ErrorCodes.InvalidParams or ErrorCodes.InvalidWorkspace => InvalidParams(FieldOf(ex) ?? "cwd", ex.Message),
        _ => Internal($"agent-sidecar: {ex.Message} (code {ex.Code})", sessionId),
    };

    /// <summary>The sidecar, or the agent's process, went away mid-request.</summary>
    public static LocalRpcException Lost(IOException ex, string? sessionId) =>
        Internal($"the connection to the sidecar was lost: {ex.Message}", sessionId);

    private static string? FieldOf(CliRpcException ex) =>
        ex.Code == ErrorCodes.InvalidWorkspace
            ? "cwd"
            : ex.ErrorData is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? (f.GetString() == "workspace" ? "cwd" : f.GetString()) : null;
}
