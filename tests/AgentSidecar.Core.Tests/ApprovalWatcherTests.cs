using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Providers;

namespace AgentSidecar.Core.Tests;

/// <summary>Approval prompts followed on screen texts: appearing, and resolved by whoever answered.</summary>
public sealed class ApprovalWatcherTests
{
    private const string Prompt = "  Would you like to run the following command?\n  $ rm -rf build\n› 1. Yes, proceed (y)\n  2. No (esc)\n";
    private const string PromptSecondSelected = "  Would you like to run the following command?\n  $ rm -rf build\n  1. Yes, proceed (y)\n› 2. No (esc)\n";

    private static ProviderProfile Profile() => new()
    {
        Id = "p",
        Command = "x",
        Approvals =
        [
            new ProviderApproval
            {
                Screen = @"Would you like to run the following command\?\n\s*\$ (?<detail>.+)",
                Title = "Run a command?",
                SelectedMarker = "›",
                Options =
                [
                    new ProviderApprovalOption { OptionId = "yes", Label = "Yes, proceed", Kind = ApprovalOptionKinds.AllowOnce, Keys = "y" },
                    new ProviderApprovalOption { OptionId = "no", Label = "No", Kind = ApprovalOptionKinds.RejectOnce, Keys = "\u001b" },
                ],
            },
        ],
    };

    /// <summary>The prompt is off the screen, then still off 200 ms later: answered.</summary>
    private static ChatApprovalData Gone(ApprovalWatcher w, string screen, string turnId = "t1")
    {
        Assert.Null(w.Evaluate(screen, turnId, null, 1000));
        return w.Evaluate(screen, turnId, null, 1200)!;
    }

    [Fact]
    public void APromptThatFlickersOffDuringARedraw_StaysPending()
    {
        var w = new ApprovalWatcher(Profile());
        var first = w.Evaluate(Prompt, "t1", null, 0)!;
        Assert.Null(w.Evaluate("half-drawn\n", "t1", null, 10));
        Assert.Null(w.Evaluate(Prompt, "t1", null, 20));
        Assert.Equal(first.ApprovalId, w.Pending!.ApprovalId);
        Assert.Null(w.Evaluate("half-drawn\n", "t1", null, 300));
        Assert.NotNull(w.Evaluate("half-drawn\n", "t1", null, 460));
    }

    [Fact]
    public void APromptOnScreen_IsPending_WithItsDetailAndOptions_AndIsReportedOnce()
    {
        var w = new ApprovalWatcher(Profile());
        Assert.Null(w.Evaluate("› ready\n", "t1", null));
        var pending = w.Evaluate(Prompt, "t1", "call_1")!;
        Assert.Equal((ApprovalStatuses.Pending, "Run a command?", "rm -rf build", "call_1"), (pending.Status, pending.Title, pending.Detail, pending.ToolCallId));
        Assert.Equal(["yes", "no"], pending.Options.Select(o => o.OptionId));
        Assert.Null(w.Evaluate(Prompt, "t1", "call_1"));
        Assert.True(w.PromptShown(Prompt));
    }

    [Theory]
    [InlineData("y", "yes", ApprovalStatuses.Allowed)]
    [InlineData("\u001b", "no", ApprovalStatuses.Rejected)]
    [InlineData("\r", "yes", ApprovalStatuses.Allowed)]
    public void KeysTypedInTheTerminal_NameTheOption(string keys, string option, string status)
    {
        var w = new ApprovalWatcher(Profile());
        w.Evaluate(Prompt, "t1", null);
        w.NoteKeys(keys);
        var resolved = Gone(w, "• Ran rm -rf build\n");
        Assert.Equal((status, ApprovalResolvers.Terminal, option), (resolved.Status, resolved.ResolvedBy, resolved.OptionId));
        Assert.Null(w.Pending);
        Assert.Equal(status, w.Find(resolved.ApprovalId)!.Status);
    }

    [Fact]
    public void EnterAfterMovingTheSelection_PicksTheLineTheMarkerIsOn()
    {
        var w = new ApprovalWatcher(Profile());
        w.Evaluate(Prompt, "t1", null);
        w.NoteKeys("\u001b[B");
        Assert.Null(w.Evaluate(PromptSecondSelected, "t1", null));
        w.NoteKeys("\r");
        var resolved = Gone(w, "• Rejected\n");
        Assert.Equal(("no", ApprovalStatuses.Rejected), (resolved.OptionId, resolved.Status));
    }

    [Fact]
    public void AnAnswerFromTheChat_IsTheChats_AndAPromptThatGoesAwayUnansweredIsCancelled()
    {
        var w = new ApprovalWatcher(Profile());
        var first = w.Evaluate(Prompt, "t1", null)!;
        Assert.Equal("y", w.Answer("yes", ApprovalResolvers.Chat));
        var resolved = Gone(w, "done\n");
        Assert.Equal((first.ApprovalId, ApprovalStatuses.Allowed, ApprovalResolvers.Chat), (resolved.ApprovalId, resolved.Status, resolved.ResolvedBy));

        var second = w.Evaluate(Prompt, "t2", null)!;
        Assert.NotEqual(first.ApprovalId, second.ApprovalId);
        Assert.Equal("no", w.RejectOption());
        var gone = Gone(w, "■ interrupted\n", "t2");
        Assert.Equal((ApprovalStatuses.Cancelled, ApprovalResolvers.Agent, (string?)null), (gone.Status, gone.ResolvedBy, gone.OptionId));
    }

    [Fact]
    public void AProfileWithABadApprovalPattern_IsRefusedNamingTheField()
    {
        var p = Profile();
        p.Approvals[0].Screen = "(unclosed";
        Assert.Contains("approvals[0].screen", ProviderRegistry.Validate(p), StringComparison.Ordinal);
        p = Profile();
        p.Approvals[0].Options[1].Kind = "sometimes";
        Assert.Contains("approvals[0].options[1].kind", ProviderRegistry.Validate(p), StringComparison.Ordinal);
    }
}
