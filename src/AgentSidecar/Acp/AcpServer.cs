using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentSidecar.Cli;
using StreamJsonRpc;

namespace AgentSidecar.Acp;

/// <summary>
/// <c>agent-sidecar acp</c>: an ACP agent on stdin/stdout (StreamJsonRpc, one JSON message per line,
/// System.Text.Json with <see cref="AcpJsonContext"/>). Stdout carries ACP messages only: the
/// console's own output is sent to stderr for the whole run, where the logs go.
/// </summary>
internal sealed class AcpServer(JsonRpc rpc) : IAcpClient
{
    public static async Task<int> RunAsync(CliContext context, AcpOptions options, CancellationToken cancellationToken)
    {
        var stdout = Console.OpenStandardOutput();
        var stdin = Console.OpenStandardInput();
        var log = Console.Error;
        Console.SetOut(log);

        var formatter = new SystemTextJsonFormatter
        {
            JsonSerializerOptions = new JsonSerializerOptions
            {
                // The ACP records are source-generated; StreamJsonRpc's own error data falls back to reflection.
                TypeInfoResolver = JsonTypeInfoResolver.Combine(AcpJsonContext.Default, new DefaultJsonTypeInfoResolver()),
                PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
                DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
            },
        };
        using var rpc = new JsonRpc(new AcpMessageHandler(stdout, stdin, formatter, log));
        var agent = new AcpAgent(context, options, new AcpServer(rpc), log);
        await using (agent.ConfigureAwait(false))
        {
            new AcpCancellation(log).Attach(rpc);
            rpc.AddLocalRpcTarget(agent, new JsonRpcTargetOptions { MethodNameTransform = null });
            rpc.StartListening();
            await log.WriteLineAsync($"agent-sidecar acp: ACP (protocol {AcpAgent.ProtocolVersion}) on stdio, provider {options.Provider}{(options.Model is { } m ? $", model {m}" : string.Empty)}, data {context.DataDir}").ConfigureAwait(false);
            try
            {
                await rpc.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or EndOfStreamException)
            {
                // The client went away (stdin closed) or the process is stopping.
            }
        }

        return ExitCodes.Ok;
    }

    public Task UpdateAsync(string sessionId, SessionUpdate update) =>
        rpc.NotifyWithParameterObjectAsync(AcpMethods.SessionUpdate, new SessionNotification(sessionId, update));

    public Task<RequestPermissionResponse> RequestPermissionAsync(RequestPermissionRequest request, CancellationToken cancellationToken) =>
        rpc.InvokeWithParameterObjectAsync<RequestPermissionResponse>(AcpMethods.RequestPermission, request, cancellationToken);
}
