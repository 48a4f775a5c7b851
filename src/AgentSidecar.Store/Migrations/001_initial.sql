-- Schema version 1: sessions, their workers, and the append-only event log.
-- Invariants live in the schema: seq starts at 1 per session and has no gaps (trigger).

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    session_key       TEXT NOT NULL,
    workspace         TEXT NOT NULL,
    provider          TEXT NOT NULL,
    model             TEXT,
    task_id           TEXT,
    kind              TEXT NOT NULL CHECK (kind IN ('quick', 'worktree')),
    status            TEXT NOT NULL CHECK (status IN ('created', 'active', 'suspended', 'completed', 'failed')),
    status_reason     TEXT,
    title             TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    ended_at          INTEGER,
    transitioned_from TEXT,
    transitioned_to   TEXT,
    agent_session_id  TEXT,
    last_seq          INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    owner_pid         INTEGER,
    owner_start       INTEGER,
    owner_socket      TEXT,
    cols              INTEGER NOT NULL,
    rows              INTEGER NOT NULL,
    last_activity_at  INTEGER NOT NULL
);

CREATE INDEX sessions_by_created ON sessions (created_at DESC, id DESC);
CREATE INDEX sessions_by_workspace ON sessions (workspace, created_at DESC);
CREATE INDEX sessions_by_key ON sessions (session_key, status);
CREATE INDEX sessions_by_task ON sessions (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX sessions_by_status ON sessions (status);

CREATE TABLE workers (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('agent', 'terminal')),
    name        TEXT NOT NULL,
    command     TEXT NOT NULL,
    args        TEXT NOT NULL DEFAULT '[]',
    cwd         TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'exited')),
    pid         INTEGER,
    pid_start   INTEGER,
    exit_code   INTEGER,
    signal      INTEGER,
    cols        INTEGER NOT NULL,
    rows        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    exited_at   INTEGER
);

CREATE INDEX workers_by_session ON workers (session_id);

CREATE TABLE events (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL CHECK (seq > 0),
    ts          INTEGER NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('pty', 'chat', 'system', 'metrics')),
    type        TEXT NOT NULL,
    worker_id   TEXT,
    data        BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TRIGGER events_seq_has_no_gaps BEFORE INSERT ON events
WHEN NEW.seq <> (SELECT last_seq FROM sessions WHERE id = NEW.session_id) + 1
BEGIN
    SELECT RAISE(ABORT, 'event seq must be the session''s last_seq + 1');
END;

CREATE TRIGGER events_advance_last_seq AFTER INSERT ON events
BEGIN
    UPDATE sessions SET last_seq = NEW.seq WHERE id = NEW.session_id;
END;
