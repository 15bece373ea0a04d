-- The initial schema.
--
-- Columns ending in _key hold strings.ToLower of a value that Entra compares
-- case-insensitively (domains, UPNs, appIds); the record keeps the spelling it
-- was given. Lower-casing in Go rather than with SQL lower() keeps the
-- comparison identical in both backends, including for non-ASCII text.
--
-- Times are UTC Unix microseconds, NULL for the zero time.
-- doc columns hold the rest of a record as JSON (see records.go).

CREATE TABLE tenants (
    id         TEXT NOT NULL PRIMARY KEY,
    created_at INTEGER,
    doc        TEXT NOT NULL
) STRICT;

-- One row per verified domain: the primary key makes a domain belong to at
-- most one tenant. The tenant's doc keeps the ordered list (the first domain
-- is the default); this table is the index.
CREATE TABLE tenant_domains (
    domain_key TEXT NOT NULL PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

CREATE TABLE users (
    tenant_id           TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    upn                 TEXT    NOT NULL,
    upn_key             TEXT    NOT NULL,
    display_name        TEXT    NOT NULL,
    mail_nickname       TEXT    NOT NULL,
    account_enabled     INTEGER NOT NULL,
    password_hash       TEXT    NOT NULL,
    password_changed_at INTEGER,
    created_at          INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX users_upn ON users (tenant_id, upn_key);

CREATE TABLE applications (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    app_id_key   TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at   INTEGER,
    doc          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX applications_app_id ON applications (tenant_id, app_id_key);

CREATE TABLE service_principals (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    app_id_key   TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at   INTEGER,
    doc          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX service_principals_app_id ON service_principals (tenant_id, app_id_key);

CREATE TABLE app_role_assignments (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    app_role_id  TEXT NOT NULL,
    created_at   INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX app_role_assignments_principal ON app_role_assignments (tenant_id, principal_id);

CREATE TABLE directory_role_assignments (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    principal_id     TEXT NOT NULL,
    role_template_id TEXT NOT NULL,
    created_at       INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX directory_role_assignments_principal ON directory_role_assignments (tenant_id, principal_id);

CREATE TABLE subscriptions (
    id           TEXT NOT NULL PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   INTEGER
) STRICT;
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id);

CREATE TABLE role_assignments (
    id                 TEXT NOT NULL PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    scope              TEXT NOT NULL,
    role_definition_id TEXT NOT NULL,
    principal_id       TEXT NOT NULL,
    principal_type     TEXT NOT NULL,
    description        TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         INTEGER,
    updated_at         INTEGER
) STRICT;
CREATE INDEX role_assignments_tenant ON role_assignments (tenant_id);
-- ARM compares scopes and GUIDs case-insensitively. These values are ASCII,
-- so SQL lower() folds them the same way in both backends.
CREATE UNIQUE INDEX role_assignments_triple
    ON role_assignments (tenant_id, lower(scope), lower(role_definition_id), lower(principal_id));

CREATE TABLE signing_keys (
    id           TEXT NOT NULL PRIMARY KEY,
    algorithm    TEXT NOT NULL,
    state        TEXT NOT NULL,
    private_key  BLOB,
    certificate  BLOB,
    created_at   INTEGER,
    activated_at INTEGER,
    retired_at   INTEGER
) STRICT;

CREATE TABLE replay (
    key        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX replay_expires ON replay (expires_at);

-- Append-only. seq orders events that share a timestamp in insertion order.
CREATE TABLE audit_events (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    time           INTEGER NOT NULL,
    tenant_id      TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    actor_id       TEXT    NOT NULL,
    actor_name     TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    target         TEXT    NOT NULL,
    result         TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    client_ip      TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    details        TEXT
) STRICT;
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, time);
CREATE INDEX audit_events_time ON audit_events (time);
