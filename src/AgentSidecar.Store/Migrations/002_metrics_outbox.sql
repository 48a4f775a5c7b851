-- Schema version 2: the metrics outbox. A record is written in the same transaction as the state
-- change that caused it, and stays until the endpoint has acknowledged it (sent_at).

CREATE TABLE metrics_outbox (
    id          TEXT PRIMARY KEY,              -- stable, unique: the idempotency key
    session_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('start', 'end', 'usage')),
    record      BLOB NOT NULL,                 -- the JSON record exactly as it is sent
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);

CREATE INDEX metrics_outbox_pending ON metrics_outbox (created_at, id) WHERE sent_at IS NULL;
