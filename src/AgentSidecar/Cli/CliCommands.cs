using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.Core;
using Spectre.Console;

namespace AgentSidecar.Cli;

/// <summary>
/// <c>agent-sidecar sessions …</c>, <c>chat</c> and <c>attach</c>: the same protocol as the editor,
/// through the sidecar that owns the session (its unix socket) or one started for the command.
/// </summary>
internal static class CliCommands
{
    private static readonly string[] ListColumns = ["ID", "STATUS", "PROVIDER", "TASK", "WORKSPACE", "TITLE", "UPDATED"];

    private static readonly string[] ShowFields = ["id", "status", "statusReason", "provider", "model", "taskId", "kind", "workspace", "title", "agentSessionId", "createdAt", "updatedAt", "endedAt", "transitionedFrom", "transitionedTo"];

    public static void AddTo(RootCommand root, Option<string?> dataDir, Option<string?> configDir)
    {
        dataDir.Recursive = true;
        configDir.Recursive = true;
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (for scripts).", Recursive = true };
        root.Options.Add(json);
        CliContext Context(ParseResult p) => new(
            p.GetValue(dataDir) is { } d ? Path.GetFullPath(d) : SidecarOptions.DefaultDataDir(Environment.GetEnvironmentVariable),
            p.GetValue(configDir) is { } c ? Path.GetFullPath(c) : SidecarOptions.DefaultConfigDir(Environment.GetEnvironmentVariable),
            p.GetValue(json));

        var sessions = new Command("sessions", "List and manage sessions.");
        sessions.Subcommands.Add(ListCommand(Context));
        sessions.Subcommands.Add(ShowCommand(Context));
        foreach (var (name, method, verb) in new[] { ("suspend", "session/suspend", "Suspend a session (its agent quits; resume it later)."), ("resume", "session/resume", "Resume a suspended session (the agent continues the conversation)."), ("end", "session/end", "End a session for good.") })
        {
            var id = new Argument<string>("sessionId") { Description = "The session's id (see 'sessions list')." };
            var command = new Command(name, verb) { id };
            command.SetAction((p, ct) => RunAsync(async () =>
            {
                var ctx = Context(p);
                var sessionId = p.GetValue(id)!;
                await using var conn = await ctx.ConnectAsync(sessionId).ConfigureAwait(false);
                var session = await WithProgressAsync(ctx, $"{char.ToUpperInvariant(name[0])}{name[1..]}ing session {sessionId}…", () => conn.RequestAsync(method, new JsonObject { ["sessionId"] = sessionId }, ct)).ConfigureAwait(false);
                if (ctx.Json)
                {
                    CliContext.WriteJson(session);
                }
                else
                {
                    AnsiConsole.MarkupLineInterpolated($"Session [bold]{sessionId}[/] is now [bold]{Str(session, "status")}[/].");
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
        root.Subcommands.Add(sessions);
        root.Subcommands.Add(ChatCommand(Context));
        root.Subcommands.Add(AttachCommand(Context));
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
            var query = new JsonObject { ["limit"] = p.GetValue(limit) };
            if (p.GetValue(workspace) is { } ws)
            {
                query["workspace"] = Path.GetFullPath(ws);
            }

            if (p.GetValue(status) is { Length: > 0 } st)
            {
                query["status"] = new JsonArray([.. st.Select(s => (JsonNode)s)]);
            }

            if (p.GetValue(task) is { } t)
            {
                query["taskId"] = t;
            }

            if (p.GetValue(provider) is { } pr)
            {
                query["provider"] = pr;
            }

            var result = await conn.RequestAsync("session/list", query, ct).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result);
                return ExitCodes.Ok;
            }

            var list = result.GetProperty("sessions").EnumerateArray().ToList();
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
                    Markup.Escape(Str(s, "id")),
                    StatusMarkup(Str(s, "status")),
                    Markup.Escape(Str(s, "provider") + (Str(s, "model") is { Length: > 0 } m ? $" ({m})" : string.Empty)),
                    Markup.Escape(Str(s, "taskId")),
                    Markup.Escape(Str(s, "workspace")),
                    Markup.Escape(Str(s, "title")),
                    Markup.Escape(When(Str(s, "updatedAt"))));
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
            var session = await conn.RequestAsync("session/get", new JsonObject { ["sessionId"] = sessionId }, ct).ConfigureAwait(false);
            var n = p.GetValue(events);
            List<JsonElement> last = [];
            if (n > 0)
            {
                var lastSeq = session.GetProperty("lastSeq").GetInt64();
                var page = await conn.RequestAsync("session/events", new JsonObject { ["sessionId"] = sessionId, ["afterSeq"] = Math.Max(0, lastSeq - n), ["limit"] = Math.Min(n, 10000) }, ct).ConfigureAwait(false);
                last = page.GetProperty("events").EnumerateArray().ToList();
            }

            if (ctx.Json)
            {
                CliContext.WriteJson(n > 0 ? JsonSerializer.SerializeToElement(new JsonObject { ["session"] = JsonNode.Parse(session.GetRawText()), ["events"] = JsonNode.Parse("[" + string.Join(',', last.Select(e => e.GetRawText())) + "]") }, CliNodeJsonContext.Default.JsonObject) : session);
                return ExitCodes.Ok;
            }

            var grid = new Grid().AddColumn().AddColumn();
            foreach (var field in ShowFields)
            {
                if (Str(session, field) is { Length: > 0 } v)
                {
                    grid.AddRow(new Markup($"[dim]{field}[/]"), new Markup(field == "status" ? StatusMarkup(v) : Markup.Escape(v)));
                }
            }

            if (session.TryGetProperty("worktree", out var wt) && wt.ValueKind == JsonValueKind.Object)
            {
                grid.AddRow(new Markup("[dim]worktree[/]"), new Markup(Markup.Escape($"{Str(wt, "path")} ({Str(wt, "branch")}, {Str(wt, "state")})")));
            }

            if (session.TryGetProperty("owner", out var owner) && owner.ValueKind == JsonValueKind.Object)
            {
                grid.AddRow(new Markup("[dim]owner[/]"), new Markup(Markup.Escape($"pid {owner.GetProperty("pid").GetInt32()} at {Str(owner, "socket")}")));
            }

            AnsiConsole.Write(grid);
            var workers = new Table().Border(TableBorder.Rounded).AddColumns("WORKER", "KIND", "NAME", "STATUS", "PID", "EXIT");
            foreach (var w in session.GetProperty("workers").EnumerateArray())
            {
                workers.AddRow(Markup.Escape(Str(w, "id")), Str(w, "kind"), Markup.Escape(Str(w, "name")), Str(w, "status"), Str(w, "pid"), Str(w, "exitCode") is { Length: > 0 } code ? code : Str(w, "signal") is { Length: > 0 } sig ? $"signal {sig}" : string.Empty);
            }

            AnsiConsole.Write(workers);
            if (last.Count > 0)
            {
                var table = new Table().Border(TableBorder.Simple).AddColumns("SEQ", "TIME", "CHANNEL/TYPE", "DATA");
                foreach (var e in last)
                {
                    var data = e.GetProperty("data").GetRawText();
                    table.AddRow(e.GetProperty("seq").GetInt64().ToString(CultureInfo.InvariantCulture), Markup.Escape(When(Str(e, "ts"))), $"{Str(e, "channel")}/{Str(e, "type")}", Markup.Escape(data.Length > 100 ? data[..97] + "..." : data));
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
            var args = new JsonObject();
            if (p.GetValue(idle) is { } i)
            {
                args["idleSeconds"] = i;
            }

            if (p.GetValue(purge) is { } d)
            {
                args["purgeOlderThanDays"] = d;
            }

            var result = await WithProgressAsync(ctx, "Cleaning up…", () => conn.RequestAsync("session/cleanup", args, ct)).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result);
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"Suspended {result.GetProperty("ended").GetArrayLength()} idle session(s), purged {result.GetProperty("purged").GetArrayLength()} old one(s).");
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
            var args = new JsonObject { ["workspace"] = Path.GetFullPath(p.GetValue(workspace) ?? Environment.CurrentDirectory) };
            if (p.GetValue(provider) is { } pr)
            {
                args["provider"] = pr;
            }

            var result = await WithProgressAsync(ctx, "Resetting…", () => conn.RequestAsync("session/reset", args, ct)).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result);
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"Ended {result.GetProperty("ended").GetArrayLength()} session(s).");
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
            var result = await conn.RequestAsync("session/import", new JsonObject { ["workspace"] = Path.GetFullPath(p.GetValue(workspace) ?? Environment.CurrentDirectory), ["provider"] = p.GetValue(provider) }, ct).ConfigureAwait(false);
            if (ctx.Json)
            {
                CliContext.WriteJson(result);
            }
            else
            {
                foreach (var s in result.GetProperty("sessions").EnumerateArray())
                {
                    AnsiConsole.MarkupLineInterpolated($"{Str(s, "id")}  [dim]{When(Str(s, "createdAt"))}[/]  {Str(s, "title")}");
                }

                AnsiConsole.MarkupLineInterpolated($"{result.GetProperty("sessions").GetArrayLength()} conversation(s); resume one with: agent-sidecar chat --resume <id>");
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
        var command = new Command("chat", "Chat with an agent: type a message, see the answer stream in. /clear starts over, /exit leaves.") { provider, model, workspace, task, resume };
        command.SetAction((p, ct) => RunAsync(() => new CliChat(context(p)).RunAsync(
            p.GetValue(provider) ?? Environment.GetEnvironmentVariable("AGENT_SIDECAR_PROVIDER") ?? "codex",
            p.GetValue(model),
            Path.GetFullPath(p.GetValue(workspace) ?? Environment.CurrentDirectory),
            p.GetValue(task),
            p.GetValue(resume),
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

    internal static async Task<JsonElement> WithProgressAsync(CliContext ctx, string what, Func<Task<JsonElement>> action)
    {
        if (ctx.Json || Console.IsOutputRedirected)
        {
            return await action().ConfigureAwait(false);
        }

        return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync(what, _ => action()).ConfigureAwait(false);
    }

    internal static string Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? string.Empty,
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => string.Empty,
        } : string.Empty;

    private static string StatusMarkup(string status) => status switch
    {
        "active" => "[green]active[/]",
        "created" => "[green]created[/]",
        "suspended" => "[yellow]suspended[/]",
        "failed" => "[red]failed[/]",
        _ => $"[dim]{Markup.Escape(status)}[/]",
    };

    private static string When(string iso) =>
        DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
            : iso;
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class CliNodeJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
