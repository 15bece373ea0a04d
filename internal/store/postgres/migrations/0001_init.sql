-- The initial schema.
--
-- Columns ending in _key hold strings.ToLower of a value that Entra compares
-- case-insensitively (domains, UPNs, appIds); the record keeps the spelling it
-- was given. Lower-casing in Go rather than with SQL lower() keeps the
-- comparison identical in both backends, whatever the database's collation.
--
-- Times are timestamptz (microseconds), NULL for the zero time.
-- doc columns hold the rest of a record as JSON (see records.go).

CREATE TABLE tenants (
    id         text        NOT NULL PRIMARY KEY,
    created_at timestamptz,
    doc        jsonb       NOT NULL
);

-- One row per verified domain: the primary key makes a domain belong to at
-- most one tenant. The tenant's doc keeps the ordered list (the first domain
-- is the default); this table is the index.
CREATE TABLE tenant_domains (
    domain_key text NOT NULL PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

CREATE TABLE users (
    tenant_id           text        NOT NULL,
    id                  text        NOT NULL,
    upn                 text        NOT NULL,
    upn_key             text        NOT NULL,
    display_name        text        NOT NULL,
    mail_nickname       text        NOT NULL,
    account_enabled     boolean     NOT NULL,
    password_hash       text        NOT NULL,
    password_changed_at timestamptz,
    created_at          timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_upn ON users (tenant_id, upn_key);

CREATE TABLE applications (
    tenant_id    text        NOT NULL,
    id           text        NOT NULL,
    app_id_key   text        NOT NULL,
    display_name text        NOT NULL,
    created_at   timestamptz,
    doc          jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX applications_app_id ON applications (tenant_id, app_id_key);

CREATE TABLE service_principals (
    tenant_id    text        NOT NULL,
    id           text        NOT NULL,
    app_id_key   text        NOT NULL,
    display_name text        NOT NULL,
    created_at   timestamptz,
    doc          jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX service_principals_app_id ON service_principals (tenant_id, app_id_key);

CREATE TABLE app_role_assignments (
    tenant_id    text        NOT NULL,
    id           text        NOT NULL,
    principal_id text        NOT NULL,
    resource_id  text        NOT NULL,
    app_role_id  text        NOT NULL,
    created_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX app_role_assignments_principal ON app_role_assignments (tenant_id, principal_id);

CREATE TABLE directory_role_assignments (
    tenant_id        text        NOT NULL,
    id               text        NOT NULL,
    principal_id     text        NOT NULL,
    role_template_id text        NOT NULL,
    created_at       timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX directory_role_assignments_principal ON directory_role_assignments (tenant_id, principal_id);

CREATE TABLE subscriptions (
    id           text        NOT NULL PRIMARY KEY,
    tenant_id    text        NOT NULL,
    display_name text        NOT NULL,
    state        text        NOT NULL,
    created_at   timestamptz
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id);

CREATE TABLE role_assignments (
    id                 text        NOT NULL PRIMARY KEY,
    tenant_id          text        NOT NULL,
    scope              text        NOT NULL,
    role_definition_id text        NOT NULL,
    principal_id       text        NOT NULL,
    principal_type     text        NOT NULL,
    description        text        NOT NULL,
    created_by         text        NOT NULL,
    created_at         timestamptz,
    updated_at         timestamptz
);
CREATE INDEX role_assignments_tenant ON role_assignments (tenant_id);
-- ARM compares scopes and GUIDs case-insensitively. These values are ASCII,
-- so SQL lower() folds them the same way in both backends.
CREATE UNIQUE INDEX role_assignments_triple
    ON role_assignments (tenant_id, lower(scope), lower(role_definition_id), lower(principal_id));

CREATE TABLE signing_keys (
    id           text        NOT NULL PRIMARY KEY,
    algorithm    text        NOT NULL,
    state        text        NOT NULL,
    private_key  bytea,
    certificate  bytea,
    created_at   timestamptz,
    activated_at timestamptz,
    retired_at   timestamptz
);

CREATE TABLE replay (
    key        text        NOT NULL PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX replay_expires ON replay (expires_at);

-- Append-only. seq orders events that share a timestamp in insertion order.
CREATE TABLE audit_events (
    seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             text        NOT NULL UNIQUE,
    time           timestamptz NOT NULL,
    tenant_id      text        NOT NULL,
    kind           text        NOT NULL,
    actor_id       text        NOT NULL,
    actor_name     text        NOT NULL,
    action         text        NOT NULL,
    target         text        NOT NULL,
    result         text        NOT NULL,
    reason         text        NOT NULL,
    client_ip      text        NOT NULL,
    correlation_id text        NOT NULL,
    details        jsonb
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, time, seq);
CREATE INDEX audit_events_time ON audit_events (time, seq);
