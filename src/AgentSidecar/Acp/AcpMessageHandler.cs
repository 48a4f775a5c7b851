using System.Text.Json;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace AgentSidecar.Acp;

/// <summary>
/// ACP's transport: one JSON-RPC message per line on stdin/stdout (<c>\n</c>-terminated, as the
/// spec says). Problem: StreamJsonRpc ends the connection at a line it cannot parse, and ACP wants
/// the JSON-RPC behaviour: a parse error (<c>id: null</c>) and the connection goes on. Solution: the
/// base reader has already moved past the bad line when it throws, so answer it and read the next.
/// </summary>
internal sealed class AcpMessageHandler : NewLineDelimitedMessageHandler
{
    private readonly TextWriter _log;

    public AcpMessageHandler(Stream output, Stream input, SystemTextJsonFormatter formatter, TextWriter log)
        : base(output, input, formatter)
    {
        _log = log;
        NewLine = NewLineStyle.Lf;
    }

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await base.ReadCoreAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is JsonException or UnrecognizedJsonRpcMessageException or InvalidOperationException or FormatException or ArgumentException)
            {
                var code = ex is UnrecognizedJsonRpcMessageException ? JsonRpcErrorCode.InvalidRequest : JsonRpcErrorCode.ParseError;
                await _log.WriteLineAsync($"agent-sidecar acp: {(code == JsonRpcErrorCode.ParseError ? "parse error" : "invalid request")}: {ex.Message}").ConfigureAwait(false);
                var error = new JsonRpcError
                {
                    RequestId = RequestId.Null,
                    Error = new JsonRpcError.ErrorDetail { Code = code, Message = code == JsonRpcErrorCode.ParseError ? $"Parse error: {ex.Message}" : $"Invalid request: {ex.Message}" },
                };
                await WriteAsync(error, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
