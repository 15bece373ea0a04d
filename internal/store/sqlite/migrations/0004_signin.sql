-- Interactive sign-in: authorization codes, refresh token families, device
-- codes, browser sessions, smart lockout counters, authenticator
-- registrations and Conditional Access documents. The conventions of
-- 0001_init.sql hold. Secrets are keyed by a hash computed above the store.
-- doc holds the fields a record never changes after it is written; the
-- columns hold what is looked up or changed by a conditional update, which
-- is how one-time values are consumed exactly once.

CREATE TABLE auth_codes (
    hash        TEXT    NOT NULL PRIMARY KEY,
    expires_at  INTEGER NOT NULL,
    redeemed_at INTEGER,
    doc         TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

-- A family row may be a revoked tombstone written before the family was
-- created (see store.RefreshTokens.RevokeRefreshFamily): doc is then '{}'.
CREATE TABLE refresh_families (
    id             TEXT    NOT NULL PRIMARY KEY,
    tenant_id      TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    expires_at     INTEGER,
    revoked_at     INTEGER,
    revoked_reason TEXT    NOT NULL DEFAULT '',
    doc            TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_families_user ON refresh_families (tenant_id, user_id);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

CREATE TABLE refresh_tokens (
    hash       TEXT    NOT NULL PRIMARY KEY,
    family_id  TEXT    NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    doc        TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE device_codes (
    hash           TEXT    NOT NULL PRIMARY KEY,
    user_code      TEXT    NOT NULL UNIQUE,
    expires_at     INTEGER NOT NULL,
    last_polled_at INTEGER,
    status         TEXT    NOT NULL,
    user_id        TEXT    NOT NULL DEFAULT '',
    auth_time      INTEGER,
    amr            TEXT    NOT NULL DEFAULT '[]',
    doc            TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX device_codes_expires ON device_codes (expires_at);

CREATE TABLE browser_sessions (
    hash         TEXT    NOT NULL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    auth_time    INTEGER,
    amr          TEXT    NOT NULL,
    created_at   INTEGER,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX browser_sessions_user ON browser_sessions (tenant_id, user_id);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

CREATE TABLE signin_throttles (
    key          TEXT    NOT NULL PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER,
    locked_until INTEGER,
    lockouts     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE totp_methods (
    tenant_id  TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    secret     BLOB    NOT NULL,
    confirmed  INTEGER NOT NULL,
    created_at INTEGER,
    last_step  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE ca_objects (
    tenant_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    doc         BLOB    NOT NULL,
    created_at  INTEGER,
    modified_at INTEGER,
    PRIMARY KEY (tenant_id, kind, id)
) STRICT, WITHOUT ROWID;
