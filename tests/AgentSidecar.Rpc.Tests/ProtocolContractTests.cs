using System.Reflection;
using System.Text.Json;
using AgentSidecar.Protocol;

namespace AgentSidecar.Rpc.Tests;

/// <summary>The C# side of the shared contract in tests/testdata/protocol/methods.json (the extension checks the same file).</summary>
public sealed class ProtocolContractTests
{
    private static JsonElement Contract()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "agent-sidecar.sln")))
        {
            dir = dir.Parent;
        }

        return JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.FullName, "tests", "testdata", "protocol", "methods.json"))).RootElement;
    }

    private static List<string> Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).Order(StringComparer.Ordinal).ToList();

    private static List<T> Constants<T>(Type t) =>
        t.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (T)f.GetRawConstantValue()!).ToList();

    [Fact]
    public void MethodConstants_MatchTheContract()
    {
        var c = Contract();
        var expected = Strings(c.GetProperty("requests")).Concat(Strings(c.GetProperty("clientNotifications"))).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Constants<string>(typeof(Methods)).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void NotificationConstants_MatchTheContract() =>
        Assert.Equal(Strings(Contract().GetProperty("serverNotifications")), Constants<string>(typeof(Notifications)).Order(StringComparer.Ordinal).ToList());

    [Fact]
    public void ErrorCodes_MatchTheContract()
    {
        var expected = Contract().GetProperty("errorCodes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var actual = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!);
        Assert.Equal(expected.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
    }
}
