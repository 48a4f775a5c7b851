using System.Text.Json;

namespace AgentSidecar.Core.Tests;

/// <summary>
/// Finds golden cases on disk (as VtGoldenTests does): a case is a file or folder under
/// tests/testdata/&lt;area&gt;, never a list in code, so adding a case is adding files.
/// </summary>
internal static class GoldenCases
{
    /// <summary>
    /// tests/testdata/&lt;area&gt; in the source tree when the tests run from it, else the copy next to
    /// the test binary. Problem: the build copies testdata but never deletes, so a case moved or
    /// removed in the source lingers in bin/ and would be enumerated. Solution: enumerate the source.
    /// </summary>
    public static string Directory(string area)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "testdata", area);
            if (File.Exists(Path.Combine(dir.FullName, "agent-sidecar.sln")) && System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        var copied = Path.Combine(AppContext.BaseDirectory, "testdata", area);
        return System.IO.Directory.Exists(copied)
            ? copied
            : throw new DirectoryNotFoundException($"tests/testdata/{area} not found above or next to {AppContext.BaseDirectory}");
    }

    /// <summary>Reads a case's expectation file; a missing one fails the test and says which.</summary>
    public static JsonElement ReadJson(string path)
    {
        Assert.True(File.Exists(path), $"the golden case has no expectation file {path} (see the README next to the cases)");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.Clone();
    }

    public static string RequiredString(JsonElement json, string property, string path) =>
        json.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{path}: \"{property}\" (a string) is missing");
}
