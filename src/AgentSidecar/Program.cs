using System.CommandLine;
using AgentSidecar.Core;
using AgentSidecar.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSidecar;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var stdio = new Option<bool>("--stdio") { Description = "Serve protocol v1 on stdin/stdout (the default)." };
        var noStdio = new Option<bool>("--no-stdio") { Description = "Serve only the unix socket, until SIGTERM." };
        var listen = new Option<string?>("--listen") { Description = "The unix socket path for more clients (default: <data-dir>/run/sidecar-<pid>.sock)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Where the database lives (default: $AGENT_SIDECAR_DATA_DIR, $XDG_DATA_HOME/agent-sidecar, ~/.local/share/agent-sidecar)." };
        var maxMessage = new Option<long?>("--max-message-bytes") { Description = "The largest message accepted (default 16 MiB)." };
        var stall = new Option<double?>("--client-stall-seconds") { Description = "Detach a client's streams after it reads nothing for this long (default 5)." };
        var configDir = new Option<string?>("--config-dir") { Description = "Where config.json and providers.json are read (default: $XDG_CONFIG_HOME/agent-sidecar, ~/.config/agent-sidecar)." };
        var printProviders = new Option<bool>("--print-providers") { Description = "Print the effective provider profiles (built-ins plus the config directory's) as JSON, and exit." };
        var standalone = new Option<bool>("--standalone") { Description = "Serve this editor in this process even when another sidecar on the data directory runs its workspace's sessions (by default it is handed over to that one)." };
        var adopt = new Option<bool>(DataDirectoryCheck.AdoptOption) { Description = "Use the data directory even if it is not empty and not an agent-sidecar one (by default such a directory is refused)." };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Trace, Debug, Information, Warning, Error.", DefaultValueFactory = _ => LogLevel.Information };

        var root = new RootCommand("agent-sidecar: runs terminal AI agents in pseudo-terminals for editors (protocol v1 over stdio), and drives them from a terminal (sessions, chat, attach).")
        {
            stdio, noStdio, listen, dataDir, adopt, configDir, maxMessage, stall, printProviders, standalone, logLevel,
        };
        root.SetAction(async (parse, ct) =>
        {
            var settings = new HostSettings
            {
                DataDir = parse.GetValue(dataDir) is { } d ? Path.GetFullPath(d) : SidecarOptions.DefaultDataDir(Environment.GetEnvironmentVariable),
                ListenPath = parse.GetValue(listen) is { } l ? Path.GetFullPath(l) : null,
                Stdio = !parse.GetValue(noStdio),
                MaxMessageBytes = parse.GetValue(maxMessage) ?? Rpc.RpcOptions.DefaultMaxMessageBytes,
                StallTimeout = parse.GetValue(stall) is { } s ? TimeSpan.FromSeconds(s) : null,
                ConfigDir = parse.GetValue(configDir) is { } c ? Path.GetFullPath(c) : SidecarOptions.DefaultConfigDir(Environment.GetEnvironmentVariable),
            };
            if (parse.GetValue(printProviders))
            {
                var registry = new Core.Providers.ProviderRegistry(Environment.GetEnvironmentVariable);
                var errors = registry.LoadConfigDirectory(settings.ConfigDir);
                await Console.Out.WriteLineAsync(Core.Providers.ProviderRegistry.ToJson(registry.All)).ConfigureAwait(false);
                foreach (var e in errors)
                {
                    await Console.Error.WriteLineAsync(e).ConfigureAwait(false);
                }

                return errors.Count == 0 ? 0 : 2;
            }

            // Before anything looks into the data directory (the hand-over reads its run/ and database).
            try
            {
                DataDirectoryCheck.Ensure(settings.DataDir, parse.GetValue(adopt));
            }
            catch (DataDirectoryRefusedException ex)
            {
                return DataDirectoryCheck.Report(ex);
            }

            if (settings.Stdio && settings.ListenPath is null && !parse.GetValue(standalone)
                && await StdioHandOver.TryRelayAsync(settings, ct).ConfigureAwait(false) is { } relayed)
            {
                return relayed;
            }

            // RunAsync stops and disposes the host; the exit code is read from what it leaves behind.
            SidecarExit exit;
            try
            {
                var host = SidecarServices.Build(settings, parse.GetValue(logLevel));
                exit = host.Services.GetRequiredService<SidecarExit>();
                await host.RunAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStartFailure(ex))
            {
                await Console.Error.WriteLineAsync($"agent-sidecar: cannot start: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            if (exit.StartFailure is { } failure)
            {
                // The database opens in the background (SidecarStartup): its failure surfaces here.
                await Console.Error.WriteLineAsync($"agent-sidecar: cannot start: {failure.Message}").ConfigureAwait(false);
            }

            return exit.Code;
        });
        // Problem: building the CLI's subcommands took ~26 ms of every sidecar's start (their
        // protocol table makes the JSON metadata of ~30 records), and the editor starts the sidecar
        // with server options only. Solution: the command line is parsed first without them; only
        // what that parse cannot take (a subcommand, --json, --help, --version, any error) is
        // parsed again with the full command tree, so the CLI and its messages are unchanged.
        // Measured, alternated: cold start p50 140 -> 124 ms (docs/benchmarks.md).
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 || parsed.Action != root.Action)
        {
            Cli.CliCommands.AddTo(root, dataDir, configDir, adopt);
            parsed = root.Parse(args);
        }

        if (parsed.Errors.Count > 0)
        {
            // Usage errors: one line each that says what to do, exit code 2 (docs/cli.md).
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"agent-sidecar: {error.Message} (see: agent-sidecar {string.Join(' ', parsed.CommandResult.Command.Name == root.Name ? [] : new[] { parsed.CommandResult.Command.Name })} --help)".Replace("  ", " ", StringComparison.Ordinal)).ConfigureAwait(false);
            }

            return 2;
        }

        return await parsed.InvokeAsync().ConfigureAwait(false);
    }

    private static bool IsStartFailure(Exception ex) =>
        ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException;
}
