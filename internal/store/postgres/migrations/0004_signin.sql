-- Interactive sign-in: authorization codes, refresh token families, device
-- codes, browser sessions, smart lockout counters, authenticator
-- registrations and Conditional Access documents. The conventions of
-- 0001_init.sql hold. Secrets are keyed by a hash computed above the store.
-- doc holds the fields a record never changes after it is written; the
-- columns hold what is looked up or changed by a conditional update (or
-- under a row lock), which is how one-time values are consumed exactly once
-- even across replicas.

CREATE TABLE auth_codes (
    hash        text        NOT NULL PRIMARY KEY,
    expires_at  timestamptz NOT NULL,
    redeemed_at timestamptz,
    doc         jsonb       NOT NULL
);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

-- A family row may be a revoked tombstone written before the family was
-- created (see store.RefreshTokens.RevokeRefreshFamily): doc is then '{}'.
-- Rotation and revocation lock the family row, which serialises them.
CREATE TABLE refresh_families (
    id             text        NOT NULL PRIMARY KEY,
    tenant_id      text        NOT NULL,
    user_id        text        NOT NULL,
    expires_at     timestamptz,
    revoked_at     timestamptz,
    revoked_reason text        NOT NULL DEFAULT '',
    doc            jsonb       NOT NULL
);
CREATE INDEX refresh_families_user ON refresh_families (tenant_id, user_id);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

CREATE TABLE refresh_tokens (
    hash       text        NOT NULL PRIMARY KEY,
    family_id  text        NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    doc        jsonb       NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE device_codes (
    hash           text        NOT NULL PRIMARY KEY,
    user_code      text        NOT NULL UNIQUE,
    expires_at     timestamptz NOT NULL,
    last_polled_at timestamptz,
    status         text        NOT NULL,
    user_id        text        NOT NULL DEFAULT '',
    auth_time      timestamptz,
    amr            text        NOT NULL DEFAULT '[]',
    doc            jsonb       NOT NULL
);
CREATE INDEX device_codes_expires ON device_codes (expires_at);

CREATE TABLE browser_sessions (
    hash         text        NOT NULL PRIMARY KEY,
    tenant_id    text        NOT NULL,
    user_id      text        NOT NULL,
    auth_time    timestamptz,
    amr          text        NOT NULL,
    created_at   timestamptz,
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz
);
CREATE INDEX browser_sessions_user ON browser_sessions (tenant_id, user_id);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

CREATE TABLE signin_throttles (
    key          text        NOT NULL PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz,
    locked_until timestamptz,
    lockouts     integer     NOT NULL
);

CREATE TABLE totp_methods (
    tenant_id  text        NOT NULL,
    user_id    text        NOT NULL,
    secret     bytea       NOT NULL,
    confirmed  boolean     NOT NULL,
    created_at timestamptz,
    last_step  bigint      NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE ca_objects (
    tenant_id   text        NOT NULL,
    kind        text        NOT NULL,
    id          text        NOT NULL,
    doc         bytea       NOT NULL,
    created_at  timestamptz,
    modified_at timestamptz,
    PRIMARY KEY (tenant_id, kind, id)
);
