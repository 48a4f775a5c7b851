using Microsoft.Data.Sqlite;

namespace AgentSidecar.Store;

/// <summary>A record waiting in (or sent from) the metrics outbox.</summary>
public sealed record OutboxRecord(string Id, string SessionId, string Kind, byte[] Record, long CreatedAt, int Attempts);

public sealed record OutboxStatus(long Pending, long Sent, long Failing);

public static class MetricsOutbox
{
    public static void Add(WriteContext ctx, OutboxRecord r)
    {
        using var c = ctx.Command("INSERT INTO metrics_outbox (id, session_id, kind, record, created_at) VALUES ($id, $s, $k, $r, $t)");
        c.Parameters.AddWithValue("$id", r.Id);
        c.Parameters.AddWithValue("$s", r.SessionId);
        c.Parameters.AddWithValue("$k", r.Kind);
        c.Parameters.AddWithValue("$r", r.Record);
        c.Parameters.AddWithValue("$t", r.CreatedAt);
        c.ExecuteNonQuery();
    }

    public static void MarkSent(WriteContext ctx, IEnumerable<string> ids, long now)
    {
        using var c = ctx.Command("UPDATE metrics_outbox SET sent_at = $now, attempts = attempts + 1, last_error = NULL WHERE id = $id AND sent_at IS NULL");
        var id = c.Parameters.Add("$id", SqliteType.Text);
        c.Parameters.AddWithValue("$now", now);
        foreach (var i in ids)
        {
            id.Value = i;
            c.ExecuteNonQuery();
        }
    }

    public static void MarkFailed(WriteContext ctx, IEnumerable<string> ids, string error)
    {
        using var c = ctx.Command("UPDATE metrics_outbox SET attempts = attempts + 1, last_error = $e WHERE id = $id AND sent_at IS NULL");
        var id = c.Parameters.Add("$id", SqliteType.Text);
        c.Parameters.AddWithValue("$e", error);
        foreach (var i in ids)
        {
            id.Value = i;
            c.ExecuteNonQuery();
        }
    }
}

public static class MetricsQueries
{
    /// <summary>The oldest unsent records, at most <paramref name="limit"/>.</summary>
    public static List<OutboxRecord> Pending(this SidecarStore store, int limit)
    {
        using var conn = store.OpenConnection();
        using var c = conn.CreateCommand();
        c.CommandText = "SELECT id, session_id, kind, record, created_at, attempts FROM metrics_outbox WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $n";
        c.Parameters.AddWithValue("$n", limit);
        var result = new List<OutboxRecord>();
        using var r = c.ExecuteReader();
        while (r.Read())
        {
            result.Add(new OutboxRecord(r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r.GetValue(3), r.GetInt64(4), r.GetInt32(5)));
        }

        return result;
    }

    public static OutboxStatus OutboxStatus(this SidecarStore store)
    {
        using var conn = store.OpenConnection();
        using var c = conn.CreateCommand();
        c.CommandText = "SELECT COUNT(*) FILTER (WHERE sent_at IS NULL), COUNT(*) FILTER (WHERE sent_at IS NOT NULL), COUNT(*) FILTER (WHERE sent_at IS NULL AND attempts > 0) FROM metrics_outbox";
        using var r = c.ExecuteReader();
        r.Read();
        return new OutboxStatus(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
    }
}
