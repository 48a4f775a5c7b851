using System.Collections.Concurrent;
using System.Text;
using Microsoft.Data.Sqlite;

namespace AgentSidecar.Store.Tests;

public sealed class EventLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-store-").FullName;

    private string DbPath => Path.Combine(_dir, "sidecar.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SessionRow Session(string id) => new()
    {
        Id = id,
        Key = $"shell:/w:{id}",
        Workspace = "/w",
        Provider = "shell",
        Kind = "quick",
        Status = "active",
        CreatedAt = 1,
        UpdatedAt = 1,
        Cols = 80,
        Rows = 24,
        LastActivityAt = 1,
    };

    private static EventDraft Draft(string sessionId, string text) =>
        new(sessionId, "system", "note", null, Encoding.UTF8.GetBytes($"{{\"text\":\"{text}\"}}"));

    [Fact(Timeout = 30000)]
    public async Task Open_CreatesTheDatabaseFileWithMode0600_AndTheLatestSchema()
    {
        var store = SidecarStore.Open(DbPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(DbPath));
        Assert.Equal(SidecarStore.LatestVersion, store.SchemaVersion());
        await Task.CompletedTask;
    }

    [Fact(Timeout = 30000)]
    public async Task Append_GivesSeqFromOne_InOrder_WithoutGaps()
    {
        var store = SidecarStore.Open(DbPath);
        using var writer = new StoreWriter(store, TimeProvider.System);
        await writer.WriteAsync(ctx => { ctx.InsertSession(Session("s1")); return 0; });
        var tasks = Enumerable.Range(1, 500).Select(i => writer.AppendAsync(Draft("s1", $"e{i}"))).ToList();
        var stored = await Task.WhenAll(tasks);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), stored.Select(e => e.Seq));
        var read = store.ReadEvents("s1", 0, 1000);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), read.Select(e => e.Seq));
        Assert.Equal("{\"text\":\"e500\"}", Encoding.UTF8.GetString(read[^1].Data));
        Assert.Equal(500, store.GetSession("s1")!.LastSeq);
    }

    [Fact(Timeout = 30000)]
    public async Task ReadEvents_ReturnsEveryColumnAsWritten_WithinTheLimitAndByteBudget()
    {
        // The read steps SQLite directly and reuses the previous row's strings: every change of
        // channel, type and worker id (null, same length, non-ASCII: "Ã©" after "é" has the same
        // chars as "é"'s UTF-8 bytes) must still come through.
        var store = SidecarStore.Open(DbPath);
        using var writer = new StoreWriter(store, TimeProvider.System);
        await writer.WriteAsync(ctx => { ctx.InsertSession(Session("s1")); return 0; });
        var drafts = new List<EventDraft>();
        string[] channels = ["pty", "chat", "system", "metrics"];
        string[] types = ["output", "exit", "outpuT", "note", "r\u00c3\u00a9sum\u00c3\u00a9", "résumé"];
        string?[] workers = [null, "w1", "w2", "w\u00c3\u00a9", "wé", null, "w1"];
        for (var i = 0; i < 300; i++)
        {
            drafts.Add(new EventDraft("s1", channels[i % 4], types[i % types.Length], workers[i % workers.Length], Encoding.UTF8.GetBytes($"{{\"i\":{i},\"pad\":\"{new string('x', i % 17)}\"}}")));
        }

        foreach (var d in drafts)
        {
            await writer.AppendAsync(d);
        }

        var all = store.ReadEvents("s1", 0, 1000);
        Assert.Equal(300, all.Count);
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(i + 1, all[i].Seq);
            Assert.Equal("s1", all[i].SessionId);
            Assert.Equal(drafts[i].Channel, all[i].Channel);
            Assert.Equal(drafts[i].Type, all[i].Type);
            Assert.Equal(drafts[i].WorkerId, all[i].WorkerId);
            Assert.Equal(drafts[i].Data, all[i].Data);
        }

        Assert.Equal(Enumerable.Range(11, 5).Select(i => (long)i), store.ReadEvents("s1", 10, 5).Select(e => e.Seq));
        Assert.Empty(store.ReadEvents("s1", 300, 5));

        // The byte budget ends a page after the event that reaches it, and never returns nothing.
        var budget = all[0].Data.Length + all[1].Data.Length;
        Assert.Equal([1L, 2L], store.ReadEvents("s1", 0, 1000, null, budget).Select(e => e.Seq));
        Assert.Equal([1L], store.ReadEvents("s1", 0, 1000, null, 1).Select(e => e.Seq));

        var chat = store.ReadEvents("s1", 0, 1000, ["chat", "metrics"]);
        Assert.Equal(all.Where(e => e.Channel is "chat" or "metrics").Select(e => e.Seq), chat.Select(e => e.Seq));
    }

    [Fact(Timeout = 60000)]
    public async Task ConcurrentAppends_FromManySessions_EachStayGapFreeAndOrdered()
    {
        var store = SidecarStore.Open(DbPath);
        using var writer = new StoreWriter(store, TimeProvider.System);
        var ids = Enumerable.Range(0, 20).Select(i => $"s{i}").ToList();
        foreach (var id in ids)
        {
            await writer.WriteAsync(ctx => { ctx.InsertSession(Session(id)); return 0; });
        }

        var committed = new ConcurrentQueue<StoredEvent>();
        writer.Committed += batch => { foreach (var e in batch) { committed.Enqueue(e); } };
        await Parallel.ForEachAsync(ids, async (id, _) =>
        {
            for (var i = 1; i <= 200; i++)
            {
                if (i % 3 == 0)
                {
                    writer.AppendOutput(new Source(id, "w"), Encoding.UTF8.GetBytes($"out{i};"));
                }
                else
                {
                    await writer.AppendAsync(Draft(id, $"{id}-{i}"));
                }
            }
        });
        await writer.FlushAsync();

        foreach (var id in ids)
        {
            var events = store.ReadEvents(id, 0, 10000);
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
            var notes = events.Where(e => e.Type == "note").Select(e => Encoding.UTF8.GetString(e.Data)).ToList();
            var expected = Enumerable.Range(1, 200).Where(i => i % 3 != 0).Select(i => $"{{\"text\":\"{id}-{i}\"}}").ToList();
            Assert.Equal(expected, notes);
            var output = string.Concat(events.Where(e => e.Type == "output").Select(e => System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("data").GetString()));
            Assert.Equal(string.Concat(Enumerable.Range(1, 200).Where(i => i % 3 == 0).Select(i => $"out{i};")), output);
        }

        // Committed notifications come in seq order per session too.
        foreach (var g in committed.GroupBy(e => e.SessionId))
        {
            var seqs = g.Select(e => e.Seq).ToList();
            Assert.Equal(seqs.Order().ToList(), seqs);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task OutputQueuedBackToBack_IsMergedIntoFewEvents_BoundedInSize()
    {
        var store = SidecarStore.Open(DbPath);
        await using var gate = new GatedWriter(store);
        await gate.Writer.WriteAsync(ctx => { ctx.InsertSession(Session("s1")); return 0; });
        var chunk = Encoding.UTF8.GetBytes(new string('x', 1000));
        gate.Hold();
        for (var i = 0; i < 200; i++)
        {
            gate.Writer.AppendOutput(new Source("s1", "w1"), chunk);
        }

        gate.Release();
        await gate.Writer.FlushAsync();
        var events = store.ReadEvents("s1", 0, 10000);
        Assert.InRange(events.Count, 1, 10);
        Assert.All(events, e => Assert.True(e.Data.Length <= StoreWriter.MaxOutputEventBytes + 64));
        Assert.Equal(200_000, events.Sum(e => System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("data").GetString()!.Length));
    }

    [Fact(Timeout = 30000)]
    public async Task FailingMutation_IsUndoneAlone_AndSeqStaysGapFree()
    {
        var store = SidecarStore.Open(DbPath);
        using var writer = new StoreWriter(store, TimeProvider.System);
        await writer.WriteAsync(ctx => { ctx.InsertSession(Session("s1")); return 0; });
        var ok1 = writer.AppendAsync(Draft("s1", "a"));
        var bad = writer.WriteAsync<int>(ctx =>
        {
            ctx.Append(Draft("s1", "doomed"));
            throw new InvalidOperationException("no");
        });
        var ok2 = writer.AppendAsync(Draft("s1", "b"));
        await ok1;
        await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        await ok2;
        var events = store.ReadEvents("s1", 0, 100);
        Assert.Equal([1L, 2L], events.Select(e => e.Seq));
        Assert.DoesNotContain(events, e => Encoding.UTF8.GetString(e.Data).Contains("doomed", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task Schema_RejectsAGapInSeq()
    {
        var store = SidecarStore.Open(DbPath);
        using var writer = new StoreWriter(store, TimeProvider.System);
        await writer.WriteAsync(ctx => { ctx.InsertSession(Session("s1")); return 0; });
        using var conn = new SqliteConnection($"Data Source={DbPath}");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "INSERT INTO events (session_id, seq, ts, channel, type, data) VALUES ('s1', 5, 0, 'system', 'x', x'7b7d')";
        var ex = Assert.Throws<SqliteException>(() => cmd.ExecuteNonQuery());
        Assert.Equal(SQLitePCL.raw.SQLITE_CONSTRAINT, ex.SqliteErrorCode);
    }

    [Fact(Timeout = 30000)]
    public async Task Reopen_KeepsSessionsAndEvents_AndContinuesTheSeq()
    {
        var store = SidecarStore.Open(DbPath);
        using (var writer = new StoreWriter(store, TimeProvider.System))
        {
            await writer.WriteAsync(ctx => { ctx.InsertSession(Session("s1")); return 0; });
            for (var i = 0; i < 10; i++)
            {
                await writer.AppendAsync(Draft("s1", $"e{i}"));
            }
        }

        SqliteConnection.ClearAllPools();
        var reopened = SidecarStore.Open(DbPath);
        Assert.Equal(10, reopened.GetSession("s1")!.LastSeq);
        using var writer2 = new StoreWriter(reopened, TimeProvider.System);
        var next = await writer2.AppendAsync(Draft("s1", "after"));
        Assert.Equal(11, next.Seq);
        Assert.Equal(11, reopened.ReadEvents("s1", 0, 100).Count);
    }

    [Fact(Timeout = 30000)]
    public async Task ListSessions_FiltersAndPagesWithAKeysetCursor()
    {
        var store = SidecarStore.Open(DbPath);
        using var writer = new StoreWriter(store, TimeProvider.System);
        for (var i = 0; i < 25; i++)
        {
            var row = Session($"s{i:00}") with { CreatedAt = 1000 + i, Status = i % 2 == 0 ? "active" : "completed", TaskId = i < 5 ? "T-1" : null };
            await writer.WriteAsync(ctx => { ctx.InsertSession(row); return 0; });
        }

        var page1 = store.ListSessions(new SessionQuery { Limit = 10 });
        Assert.Equal("s24", page1[0].Id);
        var page2 = store.ListSessions(new SessionQuery { Limit = 10, After = (page1[^1].CreatedAt, page1[^1].Id) });
        Assert.Equal("s14", page2[0].Id);
        Assert.Equal(13, store.ListSessions(new SessionQuery { Statuses = ["active"], Limit = 100 }).Count);
        Assert.Equal(5, store.ListSessions(new SessionQuery { TaskId = "T-1", Limit = 100 }).Count);
    }

    [Fact(Timeout = 60000)]
    public async Task TheCheckpointer_CopiesTheWalIntoTheDatabase_SoTheWalStaysBounded()
    {
        // The writer's connection never checkpoints (wal_autocheckpoint=0): without the
        // checkpointer thread the WAL would hold all 80 MB below and the database none of it.
        var store = SidecarStore.Open(DbPath);
        using var writer = new StoreWriter(store, TimeProvider.System);
        await writer.WriteAsync(ctx => { ctx.InsertSession(Session("s1")); return 0; });
        const int Chunks = 16, ChunkBytes = 5_000_000;
        var chunk = Encoding.ASCII.GetBytes(new string('z', ChunkBytes));
        var wal = new FileInfo(DbPath + "-wal");
        for (var i = 0; i < Chunks; i++)
        {
            writer.AppendOutput(new Source("s1", "w1"), chunk);
            await writer.FlushAsync();

            // The checkpointer (every 250 ms) copies each chunk into the database file before the next is written.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (new FileInfo(DbPath).Length < (long)(i + 1) * ChunkBytes && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }

            wal.Refresh();
            Assert.True(new FileInfo(DbPath).Length >= (long)(i + 1) * ChunkBytes, $"chunk {i + 1} of {Chunks} was not checkpointed within 10 s: database {new FileInfo(DbPath).Length} bytes, WAL {wal.Length} bytes");
        }

        await writer.FlushAsync();
        wal.Refresh();
        Assert.True(wal.Length <= 64L * 1024 * 1024, $"WAL {wal.Length} bytes");
        Assert.Equal(80_000_000, store.ReadEvents("s1", 0, 100, ["pty"]).Sum(e => e.Data.Length - "{\"data\":\"\"}".Length));
    }

    private sealed record Source(string SessionId, string WorkerId) : IOutputSource;

    /// <summary>Holds the writer thread busy so that a test can queue items back to back.</summary>
    private sealed class GatedWriter(SidecarStore store) : IAsyncDisposable
    {
        private readonly ManualResetEventSlim _gate = new(true);

        public StoreWriter Writer { get; } = new(store, TimeProvider.System);

        public void Hold()
        {
            _gate.Reset();
            _ = Writer.WriteAsync(_ => { _gate.Wait(); return 0; });
        }

        public void Release() => _gate.Set();

        public ValueTask DisposeAsync()
        {
            _gate.Set();
            Writer.Dispose();
            _gate.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
