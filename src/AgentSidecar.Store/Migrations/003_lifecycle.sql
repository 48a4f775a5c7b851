-- Schema version 3: session lifecycle. Worktree sessions record their git worktree; workers
-- remember whether they were running when the session was suspended (they start again on resume).

ALTER TABLE sessions ADD COLUMN worktree_path TEXT;
ALTER TABLE sessions ADD COLUMN worktree_branch TEXT;
ALTER TABLE sessions ADD COLUMN worktree_base TEXT;
ALTER TABLE sessions ADD COLUMN worktree_state TEXT CHECK (worktree_state IN ('active', 'moved', 'removed', 'kept'));

ALTER TABLE workers ADD COLUMN resume INTEGER NOT NULL DEFAULT 0 CHECK (resume IN (0, 1));

CREATE INDEX sessions_by_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX sessions_by_agent_session ON sessions (provider, agent_session_id) WHERE agent_session_id IS NOT NULL;
