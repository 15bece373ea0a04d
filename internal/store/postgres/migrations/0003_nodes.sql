-- Registered nodes of ML computes (managed identity). The conventions of
-- 0001_init.sql hold: _key columns are strings.ToLower of a value compared
-- case-insensitively, computed in Go; times are timestamptz (microseconds),
-- NULL for the zero time.
--
-- secret_hash is the SHA-256 of the node secret; the secret is never stored.
-- compute_key is the lower-cased ARM id of the compute: the nodes of every
-- compute under a resource are the key range [k || '/', k || '0'), which
-- holds only for a bytewise order, hence COLLATE "C" (as resources.id_key).
CREATE TABLE compute_nodes (
    id          text        NOT NULL PRIMARY KEY,
    tenant_id   text        NOT NULL,
    compute_id  text        NOT NULL,
    compute_key text COLLATE "C" NOT NULL,
    name        text        NOT NULL,
    secret_hash bytea,
    created_by  text        NOT NULL,
    created_at  timestamptz,
    rotated_at  timestamptz,
    expires_at  timestamptz
);
CREATE INDEX compute_nodes_compute ON compute_nodes (compute_key);
