-- The change feed: one row per write that replicas keep a view of in memory,
-- appended in the write's transaction. change_head holds the newest
-- revision; a writer takes the next ones by updating it, which also orders
-- the writers, so revisions commit in order and without gaps.
CREATE TABLE change_head (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
) STRICT;
INSERT INTO change_head (id, revision) VALUES (1, 0);

CREATE TABLE changes (
    revision  INTEGER NOT NULL PRIMARY KEY,
    time      INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    tenant_id TEXT    NOT NULL,
    key       TEXT    NOT NULL
) STRICT;
CREATE INDEX changes_time ON changes (time);
