using System.Text;
using AgentSidecar.Store;

namespace AgentSidecar.Bench;

/// <summary>Big data directories made with the store's own writer (the schema and triggers apply).</summary>
internal static class Seeding
{
    public static async Task SessionsAsync(string dataDir, int count, string workspace)
    {
        Directory.CreateDirectory(dataDir);
        var store = SidecarStore.Open(Path.Combine(dataDir, "sidecar.db"));
        using var writer = new StoreWriter(store, TimeProvider.System);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var done = 0; done < count; done += 5000)
        {
            var n = Math.Min(5000, count - done);
            var first = done;
            await writer.WriteAsync(ctx =>
            {
                for (var i = first; i < first + n; i++)
                {
                    var ws = $"{workspace}/p{i % 100}";
                    ctx.InsertSession(new SessionRow
                    {
                        Id = $"{i:x32}", Key = $"shell:{ws}:", Workspace = ws, Provider = "shell", Kind = "quick", Status = "completed",
                        StatusReason = "ended", CreatedAt = now - count + i, UpdatedAt = now - count + i, EndedAt = now - count + i, Cols = 120, Rows = 32, LastActivityAt = now - count + i,
                    });
                }

                return 0;
            });
        }
    }

    /// <summary>One session with <paramref name="count"/> output events of <paramref name="bytesEach"/> bytes; returns its id.</summary>
    public static async Task<string> EventsAsync(string dataDir, int count, int bytesEach, string workspace)
    {
        Directory.CreateDirectory(dataDir);
        var store = SidecarStore.Open(Path.Combine(dataDir, "sidecar.db"));
        using var writer = new StoreWriter(store, TimeProvider.System);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = new string('e', 32);
        await writer.WriteAsync(ctx =>
        {
            ctx.InsertSession(new SessionRow
            {
                Id = id, Key = $"shell:{workspace}:", Workspace = workspace, Provider = "shell", Kind = "quick", Status = "completed",
                CreatedAt = now, UpdatedAt = now, Cols = 120, Rows = 32, LastActivityAt = now,
            });
            return 0;
        });
        var payload = Encoding.UTF8.GetBytes("{\"data\":\"" + new string('r', bytesEach - 11) + "\\n\"}");
        for (var done = 0; done < count; done += 20_000)
        {
            var n = Math.Min(20_000, count - done);
            await writer.WriteAsync(ctx =>
            {
                for (var i = 0; i < n; i++)
                {
                    ctx.Append(new EventDraft(id, "pty", "output", null, payload));
                }

                return 0;
            });
        }

        return id;
    }
}
