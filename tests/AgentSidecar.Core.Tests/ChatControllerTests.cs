using System.Text;
using System.Text.Json;
using AgentSidecar.Core.Chat;
using AgentSidecar.Core.Providers;
using AgentSidecar.Core.Sessions;
using AgentSidecar.Store;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentSidecar.Core.Tests;

/// <summary>The chat controller on a real store, with an agent whose process is gone.</summary>
public sealed class ChatControllerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("chat-controller-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 30000)]
    public async Task AMessageThatCannotBeTyped_EndsItsTurnFailed_SoTheNextOneIsNotRefusedAsBusy()
    {
        var store = SidecarStore.Open(Path.Combine(_dir, "sidecar.db"));
        using var writer = new StoreWriter(store, TimeProvider.System);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var session = new SessionRow
        {
            Id = "s1", Key = "codex:/ws:", Workspace = "/ws", Provider = "codex", Kind = "quick", Status = "active",
            CreatedAt = now, UpdatedAt = now, Cols = 80, Rows = 24, LastActivityAt = now,
        };
        await writer.WriteAsync(ctx =>
        {
            ctx.InsertSession(session);
            return 0;
        });
        var row = new WorkerRow { Id = "w1", SessionId = "s1", Kind = "agent", Name = "codex", Command = "codex", Cwd = "/ws", Status = "running" };

        // The agent's process is gone (Process is null), but it had said it was ready: the window
        // between the ready check and the typing.
        var agent = new LiveWorker(row, writer, (_, _) => { }, TimeProvider.System);
        var screen = new WorkerScreen(row.Id, 80, 24);
        var profile = BuiltInProviders.All.Single(p => p.Id == "codex");
        var chat = new ChatController(new LiveSession(session), agent, screen, profile, writer, TimeProvider.System, null, ChatReports.None, NullLogger.Instance);
        await using (chat)
        {
            var idle = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { data = "\u001b]7501;state=idle\u0007" }));
            await screen.DeliverAsync([new StoredEvent("s1", 1, now, "pty", "output", row.Id, idle)], CancellationToken.None);
            Assert.True(await chat.WaitReadyAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

            var first = await Assert.ThrowsAsync<SidecarException>(() => chat.SendAsync("hello", CancellationToken.None));
            Assert.Equal(SidecarError.InvalidState, first.Error);
            Assert.False(chat.Busy);

            // The log says what happened to the turn.
            var chatEvents = store.ReadEvents("s1", 0, 100, ["chat"]);
            Assert.Equal(["user", "turn"], chatEvents.Select(e => e.Type));
            using var turn = JsonDocument.Parse(chatEvents[1].Data);
            Assert.Equal("failed", turn.RootElement.GetProperty("status").GetString());
            Assert.Contains("could not be typed", turn.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);

            // The next message meets the same missing agent, not a turn that never ends.
            var second = await Assert.ThrowsAsync<SidecarException>(() => chat.SendAsync("again", CancellationToken.None));
            Assert.Equal(SidecarError.InvalidState, second.Error);
        }
    }
}
