using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AgentSidecar.Core;
using AgentSidecar.Protocol;
using Spectre.Console;

namespace AgentSidecar.Cli;

/// <summary>
/// <c>agent-sidecar sessions …</c>, <c>chat</c> and <c>attach</c>: the same protocol as the editor,
/// through the sidecar that owns the session (its unix socket) or one started for the command.
/// </summary>
internal static class CliCommands
{
    private static readonly string[] ListColumns = ["ID", "STATUS", "PROVIDER", "TASK", "WORKSPACE", "TITLE", "UPDATED"];

    public static void AddTo(RootCommand root, Option<string?> dataDir, Option<string?> configDir, Option<bool> adoptDataDir)
    {
        dataDir.Recursive = true;
        configDir.Recursive = true;
        adoptDataDir.Recursive = true;
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (for scripts).", Recursive = true };
        root.Options.Add(json);
        CliContext Context(ParseResult p)
        {
            var context = new CliContext(
                p.GetValue(dataDir) is { } d ? Path.GetFullPath(d) : SidecarOptions.DefaultDataDir(Environment.GetEnvironmentVariable),
                p.GetValue(configDir) is { } c ? Path.GetFullPath(c) : SidecarOptions.DefaultConfigDir(Environment.GetEnvironmentVariable),
                p.GetValue(json))
            {
                AdoptDataDir = p.GetValue(adoptDataDir),
            };

            // The same refusal as the sidecar's, before the CLI reads the directory or starts a sidecar in it.
            Hosting.DataDirectoryCheck.Ensure(context.DataDir, context.AdoptDataDir);
            return context;
        }

        var sessions = new Command("sessions", "List and manage sessions.");
        sessions.Subcommands.Add(ListCommand(Context));
        sessions.Subcommands.Add(ShowCommand(Context));
        foreach (var (name, method, verb) in new[] { ("suspend", CliProtocol.SessionSuspend, "Suspend a session (its agent quits; resume it later)."), ("resume", CliProtocol.SessionResume, "Resume a suspended session, or continue an ended one (the agent continues the conversation)."), ("end", CliProtocol.SessionEnd, "End a session for good.") })
        {
            var id = new Argument<string>("sessionId") { Description = "The session's id (see 'sessions list')." };
            var command = new Command(name, verb) { id };
            command.SetAction((p, ct) => RunAsync(async () =>
            {
                var ctx = Context(p);
                var sessionId = p.GetValue(id)!;
                await using var conn = await ctx.ConnectAsync(sessionId).ConfigureAwait(false);
                var session = await WithProgressAsync(ctx, $"{char.ToUpperInvariant(name[0])}{name[1..]}ing session {sessionId}…", () => conn.RequestAsync(method, new SessionIdParams { SessionId = sessionId }, ct)).ConfigureAwait(false);
                if (ctx.Json)
                {
                    CliContext.WriteJson(session, ProtocolJsonContext.Default.Session);
                }
                else
                {
                    AnsiConsole.MarkupLineInterpolated($"Session [bold]{sessionId}[/] is now [bold]{session.Status}[/].");
                    if (name == "suspend" || (name == "resume" && conn.OwnsSidecar))
                    {
                        AnsiConsole.MarkupLineInterpolated($"[dim]Continue it with: agent-sidecar chat --resume {sessionId}[/]");
                    }
                }

                return ExitCodes.Ok;
            }));
            sessions.Subcommands.Add(command);
        }

        sessions.Subcommands.Add(CleanupCommand(Context));
        sessions.Subcommands.Add(ResetCommand(Context));
        sessions.Subcommands.Add(ImportCommand(Context));
        sessions.Subcommands.Add(CliTaskCommand.Create(Context));
        root.Subcommands.Add(sessions);
        root.Subcommands.Add(ChatCommand(Context));
        root.Subcommands.Add(AttachCommand(Context));
        root.Subcommands.Add(AcpCommand(Context));
    }

    private static Command ListCommand(Func<ParseResult, CliContext> context)
    {
        var workspace = new Option<string?>("--workspace") { Description = "Only sessions of this folder." };
        var status = new Option<string[]>("--status") { Description = "Only these statuses (created, active, suspended, completed, failed).", AllowMultipleArgumentsPerToken = true };
        var task = new Option<string?>("--task") { Description = "Only sessions of this task id." };
        var provider = new Option<string?>("--provider") { Description = "Only sessions of this provider." };
        var limit = new Option<int>("--limit") { Description = "At most this many (newest first).", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "List sessions, newest first.") { workspace, status, task, provider, limit };
        command.SetAction((p, ct) => RunAsync(async () =>
        {
            var ctx = context(p);
            await using var conn = await ctx.ConnectAsync(null).ConfigureAwait(false);
            var query = new SessionListParams
            {
                Limit = p.GetValue(limit),
                Workspace = p.GetValue(workspace) is { } ws ? Path.GetFullPath(ws) : null,
                Status = p.GetValue(status) is { Length: > 0 } st ? st : null,
                TaskId = p.GetValue(task),
                Provider = p.GetValue(provider),
            };
            var result = await conn.RequestAsync(CliProtocol.SessionList, query, ct).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result, ProtocolJsonContext.Default.SessionListResult);
                return ExitCodes.Ok;
            }

            var list = result.Sessions;
            if (list.Count == 0)
            {
                AnsiConsole.MarkupLine("[dim]No sessions. Start one with: agent-sidecar chat --provider codex[/]");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded);
            foreach (var h in ListColumns)
            {
                table.AddColumn(new TableColumn(h).NoWrap());
            }

            foreach (var s in list)
            {
                table.AddRow(
                    Markup.Escape(s.Id),
                    StatusMarkup(s.Status),
                    Markup.Escape(s.Provider + (s.Model is { Length: > 0 } m ? $" ({m})" : string.Empty)),
                    Markup.Escape(s.TaskId ?? string.Empty),
                    Markup.Escape(s.Workspace),
                    Markup.Escape(s.Title ?? string.Empty),
                    Markup.Escape(When(s.UpdatedAt)));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ShowCommand(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("sessionId") { Description = "The session's id." };
        var events = new Option<int>("--events") { Description = "Also show its last N events.", DefaultValueFactory = _ => 0 };
        var command = new Command("show", "Show a session, its workers and (with --events) its last events.") { id, events };
        command.SetAction((p, ct) => RunAsync(async () =>
        {
            var ctx = context(p);
            var sessionId = p.GetValue(id)!;
            await using var conn = await ctx.ConnectAsync(sessionId).ConfigureAwait(false);
            var session = await conn.RequestAsync(CliProtocol.SessionGet, new SessionIdParams { SessionId = sessionId }, ct).ConfigureAwait(false);
            var n = p.GetValue(events);
            IReadOnlyList<EventRecord> last = [];
            if (n > 0)
            {
                var page = await conn.RequestAsync(CliProtocol.SessionEvents, new SessionEventsParams { SessionId = sessionId, AfterSeq = Math.Max(0, session.LastSeq - n), Limit = Math.Min(n, SessionEventsParams.MaxLimit) }, ct).ConfigureAwait(false);
                last = page.Events;
            }

            if (ctx.Json)
            {
                if (n > 0)
                {
                    CliContext.WriteJson(new SessionWithEvents(session, last), CliJsonContext.Default.SessionWithEvents);
                }
                else
                {
                    CliContext.WriteJson(session, ProtocolJsonContext.Default.Session);
                }

                return ExitCodes.Ok;
            }

            var grid = new Grid().AddColumn().AddColumn();
            foreach (var (field, value) in ShowFields(session))
            {
                if (value is { Length: > 0 } v)
                {
                    grid.AddRow(new Markup($"[dim]{field}[/]"), new Markup(field == "status" ? StatusMarkup(v) : Markup.Escape(v)));
                }
            }

            if (session.Worktree is { } wt)
            {
                grid.AddRow(new Markup("[dim]worktree[/]"), new Markup(Markup.Escape($"{wt.Path} ({wt.Branch}, {wt.State})")));
            }

            if (session.Owner is { } owner)
            {
                grid.AddRow(new Markup("[dim]owner[/]"), new Markup(Markup.Escape($"pid {owner.Pid} at {owner.Socket}")));
            }

            AnsiConsole.Write(grid);
            var workers = new Table().Border(TableBorder.Rounded).AddColumns("WORKER", "KIND", "NAME", "STATUS", "PID", "EXIT");
            foreach (var w in session.Workers)
            {
                workers.AddRow(Markup.Escape(w.Id), w.Kind, Markup.Escape(w.Name), w.Status, Number(w.Pid), w.ExitCode is { } code ? Number(code) : w.Signal is { } sig ? $"signal {Number(sig)}" : string.Empty);
            }

            AnsiConsole.Write(workers);
            if (last.Count > 0)
            {
                var table = new Table().Border(TableBorder.Simple).AddColumns("SEQ", "TIME", "CHANNEL/TYPE", "DATA");
                foreach (var e in last)
                {
                    var data = e.Data.ToString();
                    table.AddRow(e.Seq.ToString(CultureInfo.InvariantCulture), Markup.Escape(When(e.Ts)), $"{e.Channel}/{e.Type}", Markup.Escape(data.Length > 100 ? data[..97] + "..." : data));
                }

                AnsiConsole.Write(table);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CleanupCommand(Func<ParseResult, CliContext> context)
    {
        var idle = new Option<double?>("--idle") { Description = "Suspend live sessions idle for more than this many seconds (default: the configured 600)." };
        var purge = new Option<double?>("--purge-days") { Description = "Delete ended sessions older than this many days (default: the configured 30)." };
        var command = new Command("cleanup", "Suspend idle sessions and purge old ended ones.") { idle, purge };
        command.SetAction((p, ct) => RunAsync(async () =>
        {
            var ctx = context(p);
            await using var conn = await ctx.ConnectAsync(null).ConfigureAwait(false);
            var args = new SessionCleanupParams { IdleSeconds = p.GetValue(idle), PurgeOlderThanDays = p.GetValue(purge) };
            var result = await WithProgressAsync(ctx, "Cleaning up…", () => conn.RequestAsync(CliProtocol.SessionCleanup, args, ct)).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result, ProtocolJsonContext.Default.SessionCleanupResult);
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"Suspended {result.Ended.Count} idle session(s), purged {result.Purged.Count} old one(s).");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ResetCommand(Func<ParseResult, CliContext> context)
    {
        var workspace = new Option<string?>("--workspace") { Description = "The folder whose sessions end (default: the current one)." };
        var provider = new Option<string?>("--provider") { Description = "Only this provider's sessions." };
        var command = new Command("reset", "End every live session of a workspace (none if any is running a turn).") { workspace, provider };
        command.SetAction((p, ct) => RunAsync(async () =>
        {
            var ctx = context(p);
            await using var conn = await ctx.ConnectAsync(null).ConfigureAwait(false);
            var args = new SessionResetParams { Workspace = Path.GetFullPath(p.GetValue(workspace) ?? Environment.CurrentDirectory), Provider = p.GetValue(provider) };
            var result = await WithProgressAsync(ctx, "Resetting…", () => conn.RequestAsync(CliProtocol.SessionReset, args, ct)).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result, ProtocolJsonContext.Default.SessionResetResult);
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"Ended {result.Ended.Count} session(s).");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ImportCommand(Func<ParseResult, CliContext> context)
    {
        var workspace = new Option<string?>("--workspace") { Description = "The folder (default: the current one)." };
        var provider = new Option<string>("--provider") { Description = "The agent whose conversations to import (codex, claude, auggie).", Required = true };
        var command = new Command("import", "Record the agent's existing conversations for a workspace as resumable sessions.") { workspace, provider };
        command.SetAction((p, ct) => RunAsync(async () =>
        {
            var ctx = context(p);
            await using var conn = await ctx.ConnectAsync(null).ConfigureAwait(false);
            var result = await conn.RequestAsync(CliProtocol.SessionImport, new SessionImportParams { Workspace = Path.GetFullPath(p.GetValue(workspace) ?? Environment.CurrentDirectory), Provider = p.GetValue(provider) }, ct).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result, ProtocolJsonContext.Default.SessionImportResult);
            }
            else
            {
                foreach (var s in result.Sessions)
                {
                    AnsiConsole.MarkupLineInterpolated($"{s.Id}  [dim]{When(s.CreatedAt)}[/]  {s.Title ?? string.Empty}");
                }

                AnsiConsole.MarkupLineInterpolated($"{result.Sessions.Count} conversation(s); resume one with: agent-sidecar chat --resume <id>");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ChatCommand(Func<ParseResult, CliContext> context)
    {
        var provider = new Option<string?>("--provider") { Description = "The agent (codex, auggie, claude, or one of yours); default: $AGENT_SIDECAR_PROVIDER or codex." };
        var model = new Option<string?>("--model") { Description = "The model to ask the agent for." };
        var workspace = new Option<string?>("--workspace") { Description = "The folder the agent works in (default: the current one)." };
        var task = new Option<string?>("--task") { Description = "A task id to tie the session to." };
        var resume = new Option<string?>("--resume") { Description = "Continue this session (live in an editor, or suspended)." };
        var approve = new Option<string?>("--approve") { Description = "When the agent asks before it acts: ask (show the options, read the choice; the default on a terminal), always (allow), never (reject; the default when input is not a terminal)." };
        approve.AcceptOnlyFromAmong(ApprovalModes.All);
        var worktree = new Option<bool>("--worktree") { Description = "Start the session in a new git worktree of the folder (branch agent-sidecar/<id>), so the agent's edits stay apart from yours; removed at the end if it has no uncommitted changes." };
        var command = new Command("chat", "Chat with an agent: type a message, see the answer stream in with the agent's tool calls. The agent's clear command (/clear, /new for Auggie) starts over, /exit leaves.") { provider, model, workspace, task, resume, approve, worktree };
        command.Validators.Add(r =>
        {
            if (r.GetValue(worktree) && r.GetValue(resume) is not null)
            {
                r.AddError("--worktree starts a new session; it cannot be used with --resume (a resumed session keeps its own folder).");
            }
        });
        command.SetAction((p, ct) => RunAsync(() => new CliChat(context(p)).RunAsync(
            new ChatOptions(
                p.GetValue(provider) ?? Environment.GetEnvironmentVariable("AGENT_SIDECAR_PROVIDER") ?? "codex",
                p.GetValue(model),
                Path.GetFullPath(p.GetValue(workspace) ?? Environment.CurrentDirectory),
                p.GetValue(task),
                p.GetValue(resume),
                p.GetValue(approve) ?? ApprovalModes.Default(inputIsTerminal: !Console.IsInputRedirected)) { Worktree = p.GetValue(worktree) },
            ct)));
        return command;
    }

    private static Command AttachCommand(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("sessionId") { Description = "A live session's id." };
        var worker = new Option<string?>("--worker") { Description = "The worker's id (default: the agent)." };
        var command = new Command("attach", "Use a live session's terminal here (Ctrl+] detaches; the session keeps running).") { id, worker };
        command.SetAction((p, ct) => RunAsync(() => new CliAttach(context(p)).RunAsync(p.GetValue(id)!, p.GetValue(worker), ct)));
        return command;
    }

    private static Command AcpCommand(Func<ParseResult, CliContext> context)
    {
        var provider = new Option<string?>("--provider") { Description = "The agent of new sessions (codex, auggie, claude, or one of yours); default: $AGENT_SIDECAR_PROVIDER or codex." };
        var model = new Option<string?>("--model") { Description = "The model to ask the agent for." };
        var command = new Command("acp", "Serve the Agent Client Protocol on stdin/stdout, for editors that speak it (Zed, JetBrains, Neovim, Emacs, acpx; docs/acp.md).") { provider, model };
        command.SetAction((p, ct) =>
        {
            CliContext ctx;
            try
            {
                ctx = context(p);
            }
            catch (Hosting.DataDirectoryRefusedException ex)
            {
                return Task.FromResult(Hosting.DataDirectoryCheck.Report(ex));
            }

            // An editor closing its ACP agent is an editor leaving: the sidecar started for it lingers (docs/acp.md).
            return Acp.AcpServer.RunAsync(ctx with { ChildLingers = true }, new Acp.AcpOptions(p.GetValue(provider) ?? Environment.GetEnvironmentVariable("AGENT_SIDECAR_PROVIDER") ?? "codex", p.GetValue(model)), ct);
        });
        return command;
    }

    /// <summary>Runs a command; errors become one line on stderr that says what to do, and an exit code.</summary>
    internal static async Task<int> RunAsync(Func<Task<int>> body)
    {
        // Problem: setting this while the command tree was built initialised the Console and
        // Spectre.Console's profile on the sidecar's start (10–17 ms in stage timestamps, most of it
        // the Console's first use), which never prints with Spectre. Solution: only the CLI
        // commands, which print with it, set it, when they run.
        if (Console.IsOutputRedirected)
        {
            // Piped into a file or grep: no wrapping at an invented 80 columns, and plain text
            // (Spectre.Console wrote colour and style codes into pipes unless NO_COLOR was set).
            AnsiConsole.Profile.Width = 240;
            AnsiConsole.Profile.Capabilities.Ansi = false;
            AnsiConsole.Profile.Capabilities.ColorSystem = ColorSystem.NoColors;
            AnsiConsole.Profile.Capabilities.Links = false;
        }

        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (CliRpcException ex)
        {
            await Console.Error.WriteLineAsync($"agent-sidecar: {ex.Message}{Hint(ex.Code)}").ConfigureAwait(false);
            return ExitCodes.FromRpc(ex.Code);
        }
        catch (Hosting.DataDirectoryRefusedException ex)
        {
            return Hosting.DataDirectoryCheck.Report(ex);
        }
        catch (CliUnavailableException ex)
        {
            await Console.Error.WriteLineAsync($"agent-sidecar: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.NoSidecar;
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync($"agent-sidecar: the connection to the sidecar was lost ({ex.Message}); run the command again").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (JsonException ex)
        {
            await Console.Error.WriteLineAsync($"agent-sidecar: the sidecar's answer was not understood ({ex.Message}); is it the same version as this command?").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Failed;
        }
    }

    private static string Hint(int code) => code switch
    {
        1001 => " (list sessions with: agent-sidecar sessions list)",
        1005 => " (see the providers with their availability: agent-sidecar --print-providers)",
        _ => string.Empty,
    };

    internal static async Task<T> WithProgressAsync<T>(CliContext ctx, string what, Func<Task<T>> action)
    {
        if (ctx.Json || Console.IsOutputRedirected)
        {
            return await action().ConfigureAwait(false);
        }

        return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync(what, _ => action()).ConfigureAwait(false);
    }

    /// <summary>The fields <c>sessions show</c> lists (those with a value), named as on the wire.</summary>
    private static (string Field, string? Value)[] ShowFields(Session s) =>
    [
        ("id", s.Id), ("status", s.Status), ("statusReason", s.StatusReason), ("provider", s.Provider), ("model", s.Model),
        ("taskId", s.TaskId), ("kind", s.Kind), ("workspace", s.Workspace), ("title", s.Title), ("agentSessionId", s.AgentSessionId),
        ("createdAt", s.CreatedAt), ("updatedAt", s.UpdatedAt), ("endedAt", s.EndedAt), ("transitionedFrom", s.TransitionedFrom), ("transitionedTo", s.TransitionedTo),
    ];

    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;

    private static string StatusMarkup(string status) => status switch
    {
        SessionStatuses.Active => "[green]active[/]",
        SessionStatuses.Created => "[green]created[/]",
        SessionStatuses.Suspended => "[yellow]suspended[/]",
        SessionStatuses.Failed => "[red]failed[/]",
        _ => $"[dim]{Markup.Escape(status)}[/]",
    };

    private static string When(string iso) =>
        DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
            : iso;
}
