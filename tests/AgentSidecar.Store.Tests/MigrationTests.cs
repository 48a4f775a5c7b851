using Microsoft.Data.Sqlite;

namespace AgentSidecar.Store.Tests;

public sealed class MigrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-migrate-").FullName;

    private string DbPath => Path.Combine(_dir, "sidecar.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Builds a fixture database at schema <paramref name="version"/> with a session, a worker and events in it.</summary>
    private void CreateFixture(int version)
    {
        using var conn = new SqliteConnection($"Data Source={DbPath}");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = string.Join("\n", SidecarStore.Migrations().Take(version)) + $"\nPRAGMA user_version = {version};\n" +
            "INSERT INTO sessions (id, session_key, workspace, provider, kind, status, created_at, updated_at, cols, rows, last_activity_at) " +
            "VALUES ('old', 'shell:/w:', '/w', 'shell', 'quick', 'completed', 1, 2, 80, 24, 2);\n" +
            "INSERT INTO workers (id, session_id, kind, name, command, cwd, status, cols, rows, created_at) " +
            "VALUES ('w1', 'old', 'agent', 'shell', '/bin/bash', '/w', 'exited', 80, 24, 1);\n" +
            "INSERT INTO events (session_id, seq, ts, channel, type, worker_id, data) VALUES ('old', 1, 1, 'system', 'status', NULL, x'7b7d');\n" +
            "INSERT INTO events (session_id, seq, ts, channel, type, worker_id, data) VALUES ('old', 2, 2, 'pty', 'output', 'w1', x'7b7d');";
        cmd.ExecuteNonQuery();
    }

    [Theory(Timeout = 30000)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Open_OnAnEarlierSchemaWithData_MigratesToTheLatest_KeepingEverything(int version)
    {
        Assert.InRange(version, 1, SidecarStore.LatestVersion);
        CreateFixture(version);
        SqliteConnection.ClearAllPools();

        var store = SidecarStore.Open(DbPath);
        Assert.Equal(SidecarStore.LatestVersion, store.SchemaVersion());
        var session = store.GetSession("old")!;
        Assert.Equal(2, session.LastSeq);
        Assert.Equal([1L, 2L], store.ReadEvents("old", 0, 10).Select(e => e.Seq));
        Assert.Equal("w1", store.ListWorkers("old").Single().Id);

        // The migrated database works: the log goes on without a gap, the outbox takes records.
        using var writer = new StoreWriter(store, TimeProvider.System);
        var next = await writer.AppendAsync(new EventDraft("old", "system", "note", null, "{}"u8.ToArray()));
        Assert.Equal(3, next.Seq);
        await writer.WriteAsync(ctx =>
        {
            MetricsOutbox.Add(ctx, new OutboxRecord("r1", "old", "end", "{}"u8.ToArray(), 3, 0));
            return 0;
        });
        Assert.Equal(1, store.OutboxStatus().Pending);
    }

    [Fact(Timeout = 30000)]
    public async Task Open_OnANewerSchema_RefusesWithAClearMessage()
    {
        CreateFixture(SidecarStore.LatestVersion);
        using (var conn = new SqliteConnection($"Data Source={DbPath}"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = $"PRAGMA user_version = {SidecarStore.LatestVersion + 1}";
            cmd.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        var ex = Assert.Throws<InvalidOperationException>(() => SidecarStore.Open(DbPath));
        Assert.Contains("upgrade agent-sidecar", ex.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }
}
