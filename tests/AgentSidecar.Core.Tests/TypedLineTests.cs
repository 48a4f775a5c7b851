using AgentSidecar.Core.Sessions;

namespace AgentSidecar.Core.Tests;

/// <summary>What the sidecar takes to be a submitted command from keys typed into an agent's terminal.</summary>
public sealed class TypedLineTests
{
    [Theory]
    [InlineData("/clear\r", "/clear")]
    [InlineData("/clx\u007fear\r", "/clear")]
    [InlineData("junk\u0015/clear\r", "/clear")]
    [InlineData("  /clear  \n", "/clear")]
    [InlineData("\u001b[I/clear\r", "/clear")] // a focus report changes nothing
    public void KeysTypedOneByOne_AreTheLine(string keys, string expected)
    {
        var line = new TypedLine();
        Assert.Equal([expected], line.Feed(keys));
    }

    [Fact]
    public void APastedClear_IsNeverACommand_AndAnEnterInsideThePasteDoesNotSubmit()
    {
        var line = new TypedLine();
        var submitted = line.Feed("\u001b[200~notes\r/clear\rend \u001b[201~");
        Assert.Empty(submitted);
        Assert.Equal([null], line.Feed("\r"));

        // After the paste, typing works again.
        Assert.Equal(["/clear"], line.Feed("/clear\r"));
    }

    [Theory]
    [InlineData("\u001b[A\r")] // Up: a line recalled from history
    [InlineData("\u001bOA\r")] // Up in application cursor mode
    [InlineData("/cl\u001b[B\r")] // a menu entry picked with Down
    [InlineData("/cl\t\r")] // Tab completion
    [InlineData("/clear\u001b[D\u001b[C\r")] // moved the cursor: the agent knows where
    public void ALineChangedByKeysOnlyTheAgentUnderstands_IsUnknown(string keys)
    {
        var line = new TypedLine();
        Assert.Equal([null], line.Feed(keys));
    }

    [Fact]
    public void ALoneEscKey_DoesNotSwallowTheNextKey()
    {
        var line = new TypedLine();
        Assert.Empty(line.Feed("\u001b"));
        Assert.Equal(["/clear"], line.Feed("/clear\r"));
    }

    [Fact]
    public void KeysSplitAcrossWrites_AreFollowed()
    {
        var line = new TypedLine();
        Assert.Empty(line.Feed("/cl"));
        Assert.Empty(line.Feed("\u001b["));
        Assert.Empty(line.Feed("200~x\u001b[20"));
        Assert.Empty(line.Feed("1~"));
        Assert.Equal([null], line.Feed("\r"));
    }
}
