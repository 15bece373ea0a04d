-- Registered nodes of ML computes (managed identity). The conventions of
-- 0001_init.sql hold: _key columns are strings.ToLower of a value compared
-- case-insensitively, computed in Go; times are UTC Unix microseconds, NULL
-- for the zero time.
--
-- secret_hash is the SHA-256 of the node secret; the secret is never stored.
-- compute_key is the lower-cased ARM id of the compute: the nodes of every
-- compute under a resource are the key range [k || '/', k || '0') under
-- SQLite's bytewise BINARY collation, as for resources.id_key.
CREATE TABLE compute_nodes (
    id          TEXT NOT NULL PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    compute_id  TEXT NOT NULL,
    compute_key TEXT NOT NULL,
    name        TEXT NOT NULL,
    secret_hash BLOB,
    created_by  TEXT NOT NULL,
    created_at  INTEGER,
    rotated_at  INTEGER,
    expires_at  INTEGER
) STRICT;
CREATE INDEX compute_nodes_compute ON compute_nodes (compute_key);
