using System.CommandLine;
using AgentSidecar.Protocol;
using Spectre.Console;

namespace AgentSidecar.Cli;

/// <summary><c>agent-sidecar sessions task &lt;id&gt; &lt;taskId&gt;</c> (or <c>--clear</c>): <c>session/setTaskId</c>.</summary>
internal static class CliTaskCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("sessionId") { Description = "The session's id (see 'sessions list')." };
        var taskId = new Argument<string?>("taskId") { Description = "The task id to link the session to.", Arity = ArgumentArity.ZeroOrOne };
        var clear = new Option<bool>("--clear") { Description = "Remove the session's task id." };
        var command = new Command("task", "Set (or --clear) the task id of a session: live, suspended, ended or imported.") { id, taskId, clear };
        command.SetAction((p, ct) => CliCommands.RunAsync(async () =>
        {
            var ctx = context(p);
            var sessionId = p.GetValue(id)!;
            var task = p.GetValue(taskId);
            if ((task is null) == !p.GetValue(clear))
            {
                await Console.Error.WriteLineAsync("agent-sidecar: give either a task id or --clear (sessions task <sessionId> <taskId> | sessions task <sessionId> --clear)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            await using var conn = await ctx.ConnectAsync(sessionId).ConfigureAwait(false);
            var session = await conn.RequestAsync(CliProtocol.SessionSetTaskId, SessionSetTaskIdParams.For(sessionId, task), ct).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(session, ProtocolJsonContext.Default.Session);
            }
            else if (session.TaskId is { } t)
            {
                AnsiConsole.MarkupLineInterpolated($"Session [bold]{sessionId}[/] is linked to task [bold]{t}[/].");
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"Session [bold]{sessionId}[/] has no task id now.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
