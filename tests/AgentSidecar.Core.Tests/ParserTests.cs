namespace AgentSidecar.Core.Transcripts.Tests;

/// <summary>Record shapes the recordings do not contain: tool calls, split messages, aborts, older formats.</summary>
public sealed class ParserTests
{
    private static string[] Read(string kind, params string[] lines)
    {
        using var temp = new TempDir();
        var path = temp.Combine("t.jsonl");
        Append.Lines(path, lines);
        return ItemText.Format(TranscriptReaders.Open(kind, path).ReadNew());
    }

    private static string Codex(string type, string payload) =>
        $$"""{"timestamp":"2026-11-21T10:00:00.000Z","type":"{{type}}","payload":{{payload}}}""";

    /// <summary>A Claude Code line; <paramref name="rest"/> is written with ' for " to stay readable.</summary>
    private static string Claude(string type, string rest) =>
        $$"""{"type":"{{type}}","sessionId":"s1","cwd":"/w","timestamp":"2026-11-21T10:00:00.000Z",{{rest.Replace('\'', '"')}}}""";

    [Fact]
    public void Codex_ToolCallsAndAbortedTurn_ReturnsToolCallsAndTurnAborted()
    {
        var items = Read(TranscriptReaders.CodexRollout,
            Codex("response_item", """{"type":"function_call","name":"shell","arguments":"{}","call_id":"c1"}"""),
            Codex("response_item", """{"type":"custom_tool_call","name":"apply_patch","input":"x"}"""),
            Codex("response_item", """{"type":"local_shell_call","action":{"type":"exec","command":["ls"]}}"""),
            Codex("response_item", """{"type":"function_call_output","call_id":"c1","output":"ok"}"""),
            Codex("response_item", """{"type":"message","role":"user","content":[{"type":"input_text","text":"<turn_aborted>\nThe user interrupted.\n</turn_aborted>"}],"internal_chat_message_metadata_passthrough":{"content_item_kinds":["harness.turn_aborted"]}}"""),
            Codex("event_msg", """{"type":"turn_aborted","reason":"interrupted","duration_ms":900}"""));

        Assert.Equal(
        [
            "tool: shell id=c1 @2026-11-21T10:00:00.000Z",
            "tool: apply_patch @2026-11-21T10:00:00.000Z",
            "tool: local_shell @2026-11-21T10:00:00.000Z",
            "tool-result: id=c1 error=False exit=- output=ok @2026-11-21T10:00:00.000Z",
            "turn-aborted: reason=interrupted @2026-11-21T10:00:00.000Z",
        ], items);
    }

    [Fact]
    public void Codex_WithoutContentItemKinds_SkipsInjectedContextAndKeepsTypedText()
    {
        var items = Read(TranscriptReaders.CodexRollout,
            Codex("response_item", """{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n<cwd>/w</cwd>\n</environment_context>"}]}"""),
            Codex("response_item", """{"type":"message","role":"user","content":[{"type":"input_text","text":"fix the bug"}]}"""),
            Codex("response_item", """{"type":"message","role":"developer","content":[{"type":"input_text","text":"rules"}]}"""));

        Assert.Equal(["user: fix the bug @2026-11-21T10:00:00.000Z"], items);
    }

    [Fact]
    public void Codex_TokenCountRepeatedOrWithoutInfo_ReportsEachResponseOnce()
    {
        const string Usage = """{"type":"token_count","info":{"total_token_usage":{"input_tokens":100,"cached_input_tokens":60,"output_tokens":7},"last_token_usage":{"input_tokens":100,"cached_input_tokens":60,"output_tokens":7}}}""";
        var items = Read(TranscriptReaders.CodexRollout,
            Codex("event_msg", Usage),
            Codex("event_msg", """{"type":"token_count","info":null,"rate_limits":{}}"""),
            Codex("event_msg", Usage),
            Codex("event_msg", """{"type":"token_count","info":{"total_token_usage":{"input_tokens":250,"cached_input_tokens":160,"output_tokens":10}}}"""));

        Assert.Equal(
        [
            "usage: in=100 out=7 cached=60 @2026-11-21T10:00:00.000Z",
            "usage: in=150 out=3 cached=100 @2026-11-21T10:00:00.000Z", // no last_token_usage: the difference of totals
        ], items);
    }

    [Fact]
    public void Claude_MessageSplitOverLines_CountsItsUsageOnce()
    {
        var items = Read(TranscriptReaders.ClaudeJsonl,
            Claude("user", "'message':{'role':'user','content':'list files'}"),
            Claude("assistant", "'message':{'id':'m1','role':'assistant','content':[{'type':'thinking','thinking':'hmm'}],'stop_reason':null,'usage':{'input_tokens':10,'cache_creation_input_tokens':5,'cache_read_input_tokens':100,'output_tokens':2}}"),
            Claude("assistant", "'message':{'id':'m1','role':'assistant','content':[{'type':'text','text':'Looking.'}],'stop_reason':null,'usage':{'input_tokens':10,'cache_creation_input_tokens':5,'cache_read_input_tokens':100,'output_tokens':2}}"),
            Claude("assistant", "'message':{'id':'m1','role':'assistant','content':[{'type':'tool_use','id':'t1','name':'Bash','input':{}}],'stop_reason':'tool_use','usage':{'input_tokens':10,'cache_creation_input_tokens':5,'cache_read_input_tokens':100,'output_tokens':40}}"),
            Claude("user", "'message':{'role':'user','content':[{'type':'tool_result','tool_use_id':'t1','content':'a.txt'}]},'toolUseResult':{}"),
            Claude("assistant", "'message':{'id':'m2','role':'assistant','content':[{'type':'text','text':'One file: a.txt'}],'stop_reason':null,'usage':{'input_tokens':3,'cache_read_input_tokens':150,'output_tokens':9}}"),
            Claude("system", "'subtype':'turn_duration','durationMs':4200"));

        Assert.Equal(
        [
            "session: s1 cwd=/w @2026-11-21T10:00:00.000Z",
            "user: list files @2026-11-21T10:00:00.000Z",
            "usage: in=115 out=2 cached=100 @2026-11-21T10:00:00.000Z",
            "assistant: Looking. @2026-11-21T10:00:00.000Z",
            "tool: Bash id=t1 @2026-11-21T10:00:00.000Z",
            "usage: in=0 out=38 cached=0 @2026-11-21T10:00:00.000Z",
            "tool-result: id=t1 error=False exit=- output=a.txt @2026-11-21T10:00:00.000Z",
            "assistant: One file: a.txt @2026-11-21T10:00:00.000Z",
            "usage: in=153 out=9 cached=150 @2026-11-21T10:00:00.000Z",
            "turn-done: last=One file: a.txt duration=4200 @2026-11-21T10:00:00.000Z",
        ], items);
    }

    [Fact]
    public void Claude_MetaCommandsAndSidechains_AreNotUserMessages()
    {
        var items = Read(TranscriptReaders.ClaudeJsonl,
            Claude("user", "'isMeta':true,'message':{'role':'user','content':'<local-command-caveat>Caveat</local-command-caveat>'}"),
            Claude("user", "'message':{'role':'user','content':'<command-name>/model</command-name>\\n<command-message>model</command-message>'}"),
            Claude("user", "'message':{'role':'user','content':'<local-command-stdout>Set model</local-command-stdout>'}"),
            Claude("user", "'message':{'role':'user','content':'<bash-input>ls</bash-input>'}"),
            Claude("user", "'isSidechain':true,'message':{'role':'user','content':'subagent prompt'}"),
            Claude("assistant", "'isSidechain':true,'message':{'id':'x','role':'assistant','content':[{'type':'text','text':'sub answer'}],'usage':{'input_tokens':4,'output_tokens':1}}"),
            Claude("summary", "'summary':'A title','leafUuid':'u1'"),
            Claude("user", "'message':{'role':'user','content':[{'type':'text','text':'real question'},{'type':'image','source':{}}]}"));

        Assert.Equal(
        [
            "session: s1 cwd=/w @2026-11-21T10:00:00.000Z",
            "usage: in=4 out=1 cached=0 @2026-11-21T10:00:00.000Z",
            "user: real question @2026-11-21T10:00:00.000Z",
        ], items);
    }

    [Fact]
    public void Claude_EndTurnWithoutTurnDuration_CompletesAtTheNextLine()
    {
        var items = Read(TranscriptReaders.ClaudeJsonl,
            Claude("user", "'message':{'role':'user','content':'one'}"),
            Claude("assistant", "'message':{'id':'m1','role':'assistant','content':[{'type':'text','text':'A1'}],'stop_reason':'end_turn'}"),
            Claude("user", "'message':{'role':'user','content':'two'}"),
            Claude("assistant", "'isApiErrorMessage':true,'message':{'id':'m2','role':'assistant','content':[{'type':'text','text':'API Error: 500'}]}"),
            Claude("system", "'subtype':'turn_duration','durationMs':10")); // nothing open any more

        Assert.Equal(
        [
            "session: s1 cwd=/w @2026-11-21T10:00:00.000Z",
            "user: one @2026-11-21T10:00:00.000Z",
            "assistant: A1 @2026-11-21T10:00:00.000Z",
            "turn-done: last=A1 duration=- @2026-11-21T10:00:00.000Z",
            "user: two @2026-11-21T10:00:00.000Z",
            "turn-aborted: reason=API Error: 500 @2026-11-21T10:00:00.000Z",
        ], items);
    }

    [Fact]
    public void Claude_ProjectDirName_MatchesTheRecordedFolder()
    {
        // The recording's transcripts live in ~/.claude/projects/-tmp-workspace/ for cwd /tmp/workspace.
        Assert.Equal("-tmp-workspace", ClaudeSource.ProjectDirName("/tmp/workspace"));
        Assert.Equal("-home-me-my-app-v1-2", ClaudeSource.ProjectDirName("/home/me/my_app.v1 2"));
    }
}
