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

    /// <summary>Committed databases as each earlier schema version wrote them (tests/testdata/db/schema-vN.db).</summary>
    public static TheoryData<int> EarlierVersions()
    {
        var data = new TheoryData<int>();
        for (var v = 1; v < SidecarStore.LatestVersion; v++)
        {
            data.Add(v);
        }

        return data;
    }

    private static string FixturePath(int version) => Path.Combine(AppContext.BaseDirectory, "testdata", "db", $"schema-v{version}.db");

    [Fact]
    public void EveryEarlierSchemaVersion_HasAFixtureDatabase()
    {
        // A new migration needs a fixture of the version before it (see tests/testdata/db/README.md).
        for (var v = 1; v < SidecarStore.LatestVersion; v++)
        {
            Assert.True(File.Exists(FixturePath(v)), $"missing fixture {FixturePath(v)}");
        }
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(EarlierVersions))]
    public async Task Open_OnAFixtureOfAnEarlierSchema_MigratesToTheLatest_KeepingEverything(int version)
    {
        File.Copy(FixturePath(version), DbPath);
        Assert.Equal(version, UserVersion(DbPath));

        var store = SidecarStore.Open(DbPath);
        Assert.Equal(SidecarStore.LatestVersion, store.SchemaVersion());

        var ended = store.GetSession("s-ended")!;
        Assert.Equal(("completed", "T-1", 3L), (ended.Status, ended.TaskId, ended.LastSeq));
        var suspended = store.GetSession("s-susp")!;
        Assert.Equal(("suspended", "019a-agent", "gpt", "fix the bug"), (suspended.Status, suspended.AgentSessionId, suspended.Model, suspended.Title));
        Assert.Null(suspended.WorktreePath);
        Assert.Equal([1L, 2L, 3L, 4L], store.ReadEvents("s-susp", 0, 10).Select(e => e.Seq));
        var workers = store.ListWorkers("s-susp");
        Assert.Equal(["w-a", "w-t"], workers.Select(w => w.Id));
        Assert.Equal(["-l"], workers[1].Args);
        Assert.Equal("/w/sub", workers[1].Cwd);
        Assert.All(workers, w => Assert.False(w.Resume));
        Assert.Equal(suspended, store.FindByAgentSession("codex", "019a-agent"));
        Assert.Equal(["s-ended"], store.EndedBefore(long.MaxValue, 10));
        if (version >= 2)
        {
            Assert.Equal(1, store.OutboxStatus().Pending);
        }

        // The migrated database works: the log goes on without a gap, new columns take values.
        using var writer = new StoreWriter(store, TimeProvider.System);
        var next = await writer.AppendAsync(new EventDraft("s-susp", "system", "note", null, "{}"u8.ToArray()));
        Assert.Equal(5, next.Seq);
        await writer.WriteAsync(ctx =>
        {
            ctx.UpsertWorker(workers[1] with { Resume = true });
            ctx.UpdateSession(suspended with { WorktreePath = "/wt", WorktreeState = "kept" });
            MetricsOutbox.Add(ctx, new OutboxRecord("r-new", "s-susp", "end", "{}"u8.ToArray(), 3, 0));
            return 0;
        });
        Assert.True(store.ListWorkers("s-susp")[1].Resume);
        Assert.Equal("kept", store.GetSession("s-susp")!.WorktreeState);
    }

    private static int UserVersion(string path)
    {
        using var conn = new SqliteConnection($"Data Source={path};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
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
