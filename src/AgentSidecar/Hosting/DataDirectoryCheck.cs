using AgentSidecar.Core;

namespace AgentSidecar.Hosting;

/// <summary>
/// Whether a data directory may be used. Problem (issue 16): <c>--data-dir ~/projects</c> (a typo,
/// or a setting pointed at the wrong folder) made the sidecar write its database, run directory
/// and worktrees among the user's files. Solution: a directory is used only if it is missing or
/// empty (it becomes ours), or already ours; anything else is refused before a byte is written,
/// unless the user asks for it with <c>--adopt-data-dir</c>.
/// "Ours": it holds our database (<c>sidecar.db</c>: once adopted, a directory stays ours), or
/// nothing but names the sidecar itself makes (a database removed by hand leaves <c>run/</c> and
/// <c>worktrees/</c>, which are still ours).
/// The sidecar, the CLI and <c>acp</c> all check here, so they refuse alike (exit code 2, one line).
/// </summary>
internal static class DataDirectoryCheck
{
    public const string AdoptOption = "--adopt-data-dir";

    /// <summary>Everything the sidecar creates at the top of its data directory.</summary>
    private static readonly HashSet<string> OwnNames = new(StringComparer.Ordinal)
    {
        SidecarOptions.DatabaseFileName, SidecarOptions.DatabaseFileName + "-wal", SidecarOptions.DatabaseFileName + "-shm", SidecarOptions.DatabaseFileName + "-journal", "run", "worktrees",
    };

    /// <summary>How many of a refused directory's names the message shows.</summary>
    private const int NamesShown = 3;

    /// <summary>Throws <see cref="DataDirectoryRefusedException"/> if <paramref name="dir"/> is not empty and not ours (and not adopted).</summary>
    public static void Ensure(string dir, bool adopt)
    {
        if (adopt || !Directory.Exists(dir))
        {
            return;
        }

        List<string> names;
        try
        {
            names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataDirectoryRefusedException($"cannot read the data directory {dir}: {ex.Message}");
        }

        if (names.Contains(SidecarOptions.DatabaseFileName) || names.All(OwnNames.Contains))
        {
            return;
        }

        var foreign = names.Where(n => !OwnNames.Contains(n)).ToList();
        var shown = string.Join(", ", foreign.Take(NamesShown)) + (foreign.Count > NamesShown ? $", … ({foreign.Count} entries)" : string.Empty);
        throw new DataDirectoryRefusedException(
            $"{dir} is not empty and is not an agent-sidecar data directory (found: {shown}); "
            + $"pass --data-dir an empty or agent-sidecar directory, or {AdoptOption} to use it anyway");
    }

    /// <summary>Says why on stderr, in one line, and gives the exit code of a refused start (2, as for usage errors).</summary>
    public static int Report(DataDirectoryRefusedException refused)
    {
        Console.Error.WriteLine($"agent-sidecar: cannot start: {refused.Message}");
        return 2;
    }
}

/// <summary>A data directory that is not empty and not ours (see <see cref="DataDirectoryCheck"/>).</summary>
internal sealed class DataDirectoryRefusedException(string message) : IOException(message);
