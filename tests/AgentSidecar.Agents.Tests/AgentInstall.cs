using System.Diagnostics;

namespace AgentSidecar.Tests;

/// <summary>Where the real agent CLIs are.</summary>
internal sealed record AgentBinaries(string CodexBin, string AuggieBin, string ClaudeBin, string NodeBin);

/// <summary>
/// Finds the agent CLIs: <c>CODEX_BIN</c>/<c>AUGGIE_BIN</c>/<c>CLAUDE_BIN</c> from the environment, else runs
/// <c>scripts/install-agents.sh</c> (idempotent, cached) once per test run and reads its output.
/// </summary>
internal static class AgentInstall
{
    /// <summary>A cold install downloads ~170 MB from the npm registry.</summary>
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(8);

    private static readonly Lazy<Task<AgentBinaries>> Binaries = new(LocateAsync);

    public static Task<AgentBinaries> GetAsync() => Binaries.Value;

    /// <summary>The lab root (the folder holding <c>scripts/install-agents.sh</c>).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "install-agents.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("scripts/install-agents.sh not found above " + AppContext.BaseDirectory);
    }

    private static async Task<AgentBinaries> LocateAsync()
    {
        var node = FindOnPath("node") ?? throw new InvalidOperationException("node is not on PATH");
        var codex = Environment.GetEnvironmentVariable("CODEX_BIN");
        var auggie = Environment.GetEnvironmentVariable("AUGGIE_BIN");
        var claude = Environment.GetEnvironmentVariable("CLAUDE_BIN");
        if (File.Exists(codex) && File.Exists(auggie) && File.Exists(claude))
        {
            return new AgentBinaries(codex, auggie, claude, node);
        }

        var script = Path.Combine(RepoRoot(), "scripts", "install-agents.sh");
        var psi = new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + script);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(InstallTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish within {InstallTimeout}");
        }

        var output = await stdout.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}");
        }

        string? Value(string key) => output.Split('\n')
            .Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..];

        return new AgentBinaries(
            Value("CODEX_BIN") ?? throw new InvalidOperationException("no CODEX_BIN in: " + output),
            Value("AUGGIE_BIN") ?? throw new InvalidOperationException("no AUGGIE_BIN in: " + output),
            Value("CLAUDE_BIN") ?? throw new InvalidOperationException("no CLAUDE_BIN in: " + output),
            node);
    }

    private static readonly Lazy<Task<string>> ClaudeVersionOnce = new(async () =>
        VersionOf(await ExecAsync((await GetAsync().ConfigureAwait(false)).ClaudeBin, "--version").ConfigureAwait(false)));

    /// <summary>The installed Claude Code's version (<c>2.1.332</c> from <c>claude --version</c>: "2.1.332 (Claude Code)").</summary>
    public static Task<string> ClaudeVersionAsync() => ClaudeVersionOnce.Value;

    /// <summary>The first dotted number in a <c>--version</c> output.</summary>
    internal static string VersionOf(string output) =>
        System.Text.RegularExpressions.Regex.Match(output, @"\d+\.\d+\.\d+[^\s]*") is { Success: true } m
            ? m.Value
            : throw new InvalidOperationException("no version in: " + output);

    private static async Task<string> ExecAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["DISABLE_AUTOUPDATER"] = "1";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        return await stdout.ConfigureAwait(false);
    }

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
