namespace AgentSidecar.Core.Providers;

/// <summary>The four built-in profiles (docs/providers.md shows them as JSON).</summary>
public static class BuiltInProviders
{
    public static IReadOnlyList<ProviderProfile> All { get; } =
    [
        new ProviderProfile
        {
            Id = "shell",
            DisplayName = "Shell",
            Command = "${SHELL:-/bin/bash}",
            Interrupt = "\u0003",
            Features = ["terminal"],
        },
        new ProviderProfile
        {
            Id = "codex",
            DisplayName = "OpenAI Codex",
            Command = "codex",
            ModelArgs = ["--model", "{model}"],
            ResumeArgs = ["resume", "{agentSessionId}"],
            VersionArgs = ["--version"],
            Ready = new ProviderSignal { Osc = @"^7501;state=idle" },
            Busy = new ProviderSignal { Osc = @"^7501;state=working", Screen = @"esc to interrupt" },
            Done = new ProviderSignal { Osc = @"^7501;state=done" },
            Failed = new ProviderSignal { Osc = @"^7501;state=error" },
            // Enter right after the pasted message (the model's request goes out ~30 ms sooner); the
            // clear and quit commands, typed as keys, keep the 30 ms pause.
            Input = new ProviderInput { BracketedPaste = true, Submit = "\r", SubmitSeparately = true, SubmitDelayMs = 30, PasteSubmitDelayMs = 0 },
            Interrupt = "\u001b",
            Clear = new ProviderClear { Command = "/clear", Enters = 1 },
            Quit = "/quit",
            Transcript = new ProviderTranscript { Reader = "codex-rollout", Dir = "${CODEX_HOME:-~/.codex}/sessions" },
            AnswerPattern = @"^• ",
            ChromePatterns = [@"^\s*›", @"Worked for", @"esc to interrupt", @"^\s*─+\s*$", @"Would you like to", @"Press enter to confirm", @"^• (?:Ran|Running|Exited|Edited|Added|Deleted|Updated Plan)\b", @"^\s*[└✔✗■]"],
            Features = ["chat", "transcript", "resume", "clear", "model", "approvals", "mcp"],
            Mcp = new ProviderMcp { Style = ProviderMcp.CodexConfig },

            // Codex 0.169 with approval_policy "on-request" (recorded: tests/testdata/agents/codex/tools).
            // The keys answer; Enter confirms the option the › marks. A key that comes right after
            // the prompt appears is often dropped (measured: docs/benchmarks.md), so answers wait 300 ms.
            Approvals =
            [
                new ProviderApproval
                {
                    Screen = @"Would you like to run the following command\?(?:\n.*){0,12}?\n\s*\$ (?<detail>.+)",
                    Title = "Run this command?",
                    SelectedMarker = "›",
                    SettleMilliseconds = 300,
                    Options =
                    [
                        new ProviderApprovalOption { OptionId = "yes", Label = "Yes, proceed", Kind = "allow_once", Keys = "y" },
                        new ProviderApprovalOption { OptionId = "always", Label = "Yes, and don't ask again", Kind = "allow_always", Keys = "p" },
                        new ProviderApprovalOption { OptionId = "no", Label = "No, and tell Codex what to do differently", Kind = "reject_once", Keys = "\u001b" },
                    ],
                },
                new ProviderApproval
                {
                    Screen = @"Would you like to make the following edits\?(?:\n.*){0,12}?\n\s*Destination: (?<detail>.+)",
                    Title = "Make these edits?",
                    SelectedMarker = "›",
                    SettleMilliseconds = 300,
                    Options =
                    [
                        new ProviderApprovalOption { OptionId = "yes", Label = "Yes, proceed", Kind = "allow_once", Keys = "y" },
                        new ProviderApprovalOption { OptionId = "always", Label = "Yes, and don't ask again for these files", Kind = "allow_always", Keys = "a" },
                        new ProviderApprovalOption { OptionId = "no", Label = "No, and tell Codex what to do differently", Kind = "reject_once", Keys = "\u001b" },
                    ],
                },
            ],
        },
        new ProviderProfile
        {
            Id = "auggie",
            DisplayName = "Augment Auggie",
            Command = "auggie",
            Env = new Dictionary<string, string> { ["NODE_NO_WARNINGS"] = "1" },
            ModelArgs = ["--model", "{model}"],
            ResumeArgs = ["--resume", "{agentSessionId}"],
            VersionArgs = ["--version"],
            Ready = new ProviderSignal { Osc = @"^7777;idle" },
            Busy = new ProviderSignal { Screen = @"esc to interrupt" },
            Done = new ProviderSignal { Osc = @"^7777;idle" },
            Input = new ProviderInput { BracketedPaste = false, Submit = "\r", SubmitSeparately = true, SubmitDelayMs = 80 },
            Interrupt = "\u001b",
            Clear = new ProviderClear { Command = "/new", Enters = 2 },
            Quit = "/quit",
            QuitEnters = 2,
            Transcript = new ProviderTranscript { Reader = "auggie-session", Dir = "~/.augment/sessions" },
            AnswerPattern = @"^● ",
            ChromePatterns = [@"^\s*›", @"esc to interrupt", @"^\s*─+\s*$"],
            ReadyTimeoutSeconds = 45,
            Features = ["chat", "transcript", "resume", "clear", "model", "mcp"],
            Mcp = new ProviderMcp { Style = ProviderMcp.JsonFile, Flag = "--mcp-config" },
        },
        new ProviderProfile
        {
            Id = "claude",
            DisplayName = "Claude Code",
            Command = "claude",
            ModelArgs = ["--model", "{model}"],

            // Claude Code's own aliases for the newest model of each kind (`claude --model sonnet`).
            Models = ["sonnet", "opus", "haiku"],
            ResumeArgs = ["--resume", "{agentSessionId}"],
            VersionArgs = ["--version"],
            Ready = new ProviderSignal { Screen = @"^\s*❯" },
            Busy = new ProviderSignal { Screen = @"esc to interrupt" },
            Done = new ProviderSignal { Screen = @"^\s*❯" },
            Input = new ProviderInput { BracketedPaste = true, Submit = "\r", SubmitSeparately = true, SubmitDelayMs = 50 },
            Interrupt = "\u001b",
            Clear = new ProviderClear { Command = "/clear", Enters = 1 },
            Quit = "/exit",
            Transcript = new ProviderTranscript { Reader = "claude-jsonl", Dir = "~/.claude/projects" },
            AnswerPattern = @"^● ",
            // "◐ medium · /effort": the effort footer 2.1.332 draws under a streaming answer before its input box.
            ChromePatterns = [@"^\s*❯", @"esc to interrupt", @"^\s*─+\s*$", @"^\s*⏵", @"^\s*✻ ", @"^\s*╌+\s*$", @"Do you want to", @"Esc to cancel", @"·\s*/effort\s*$"],
            Features = ["chat", "transcript", "resume", "clear", "model", "approvals", "mcp"],
            Mcp = new ProviderMcp { Style = ProviderMcp.JsonFile, Flag = "--mcp-config" },

            // Claude Code 2.1.332's permission prompts in manual mode (recorded:
            // tests/testdata/agents/claude/tools). Its default, auto mode, asks the server instead and
            // shows no prompt. Digits answer; a key pressed within ~0.5 s of the prompt is dropped.
            Approvals =
            [
                new ProviderApproval
                {
                    Screen = @"^\s*Bash command\s*$(?:\n.*){0,8}?\n\s*╌+\s*\n\s*(?<detail>\S.*?)\s*$(?:\n.*){0,12}?\n\s*Do you want to proceed\?\s*\n\s*(?:❯\s*)?1\. Yes",
                    Title = "Run this command?",
                    SelectedMarker = "❯",
                    SettleMilliseconds = 800,
                    Options =
                    [
                        new ProviderApprovalOption { OptionId = "yes", Label = "Yes", Kind = "allow_once", Keys = "1" },
                        new ProviderApprovalOption { OptionId = "always", Label = "Yes, and always allow", Kind = "allow_always", Keys = "2" },
                        new ProviderApprovalOption { OptionId = "auto", Label = "Yes, and switch to auto mode", Kind = "allow_always", Keys = "3" },
                        new ProviderApprovalOption { OptionId = "no", Label = "No", Kind = "reject_once", Keys = "4" },
                    ],
                },
                new ProviderApproval
                {
                    Screen = @"^\s*(?:Edit|Create) file\s*$\n\s*(?<detail>\S.*?)\s*$(?:\n.*){0,60}?\n\s*Do you want to (?:make this edit to|create) .+\?\s*\n\s*(?:❯\s*)?1\. Yes",
                    Title = "Make this edit?",
                    SelectedMarker = "❯",
                    SettleMilliseconds = 800,
                    Options =
                    [
                        new ProviderApprovalOption { OptionId = "yes", Label = "Yes", Kind = "allow_once", Keys = "1" },
                        new ProviderApprovalOption { OptionId = "always", Label = "Yes, and switch to accept edits", Kind = "allow_always", Keys = "2" },
                        new ProviderApprovalOption { OptionId = "no", Label = "No", Kind = "reject_once", Keys = "3" },
                    ],
                },
            ],
        },
    ];
}
