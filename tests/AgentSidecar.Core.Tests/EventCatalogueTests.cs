using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSidecar.Core.Events;

namespace AgentSidecar.Core.Tests;

/// <summary>
/// The shared event examples (tests/testdata/protocol/events/, also parsed by the extension's tests)
/// against the C# catalogue: every example is a catalogued event whose payload record reads and
/// writes it unchanged, and every catalogued event has an example.
/// </summary>
public sealed class EventCatalogueTests
{
    private static string ExamplesDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "agent-sidecar.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir.FullName, "tests", "testdata", "protocol", "events");
    }

    public static TheoryData<string> Examples() => [.. Directory.EnumerateFiles(ExamplesDir(), "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Examples))]
    public void EachExample_IsACataloguedEvent_AndItsPayloadRecordWritesItBackUnchanged(string file)
    {
        var example = JsonNode.Parse(File.ReadAllText(Path.Combine(ExamplesDir(), file)))!.AsObject();
        var channel = example["channel"]!.GetValue<string>();
        var type = example["type"]!.GetValue<string>();
        Assert.StartsWith($"{channel}.{type}", file, StringComparison.Ordinal);
        var kind = EventCatalogue.Find(channel, type);
        Assert.True(kind is not null, $"{channel}/{type} is not in EventCatalogue");

        var data = example["data"]!.ToJsonString();
        var payload = JsonSerializer.Deserialize(data, kind.Payload);
        var written = JsonNode.Parse(JsonSerializer.Serialize(payload, kind.Payload));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(data), written), $"{file}: the {kind.Payload.Type.Name} record writes {written!.ToJsonString()}, the example has {data}");
    }

    [Fact]
    public void EveryCataloguedEvent_HasAnExample()
    {
        var files = Directory.EnumerateFiles(ExamplesDir(), "*.json").Select(Path.GetFileName).ToList();
        foreach (var kind in EventCatalogue.All)
        {
            Assert.Contains(files, f => f!.StartsWith($"{kind.Channel}.{kind.Type}.", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void TheCatalogue_NamesEachEventOnce()
    {
        var keys = EventCatalogue.All.Select(k => $"{k.Channel}/{k.Type}").ToList();
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
    }
}
