-- The change feed: one row per write that replicas keep a view of in memory,
-- appended in the write's transaction. change_head holds the newest
-- revision; a writer takes the next ones by updating it, which holds the
-- row's lock to its commit, so revisions commit in order and without gaps
-- (a sequence would not: a later number can commit first).
CREATE TABLE change_head (
    id       integer NOT NULL PRIMARY KEY CHECK (id = 1),
    revision bigint  NOT NULL
);
INSERT INTO change_head (id, revision) VALUES (1, 0);

CREATE TABLE changes (
    revision  bigint      NOT NULL PRIMARY KEY,
    time      timestamptz NOT NULL,
    kind      text        NOT NULL,
    tenant_id text        NOT NULL,
    key       text        NOT NULL
);
CREATE INDEX changes_time ON changes (time);
