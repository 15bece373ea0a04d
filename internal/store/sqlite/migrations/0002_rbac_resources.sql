-- Groups and their direct members, custom role definitions, and ARM
-- resources. The conventions of 0001_init.sql hold: _key columns are
-- strings.ToLower of a value compared case-insensitively, computed in Go;
-- times are UTC Unix microseconds, NULL for the zero time.

-- Group and member ids are directory object ids, compared exactly like the
-- ids of users and service principals.
CREATE TABLE directory_groups (
    tenant_id        TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    display_name     TEXT    NOT NULL,
    mail_nickname    TEXT    NOT NULL,
    security_enabled INTEGER NOT NULL,
    mail_enabled     INTEGER NOT NULL,
    created_at       INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;

-- One row per direct edge: member_id (a user, service principal or group)
-- is a member of group_id. No foreign keys: a member may be any kind of
-- object, and the rules about what may join what live above the store.
CREATE TABLE group_members (
    tenant_id TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, group_id, member_id)
) STRICT, WITHOUT ROWID;
-- DeleteGroup removes the edges where the group is the member, too.
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

-- Custom role definitions. The id is a GUID that ARM compares
-- case-insensitively; doc holds the whole record (see records_rbac.go).
-- Azure refuses two custom roles of one name in a tenant, in any case.
CREATE TABLE role_definitions (
    id_key        TEXT NOT NULL PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    role_name_key TEXT NOT NULL,
    created_at    INTEGER,
    doc           TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX role_definitions_name ON role_definitions (tenant_id, role_name_key);

-- ARM resources as documents. id keeps the casing the resource was created
-- with; id_key is the lookup key. Every resource below a resource has an
-- id_key that starts with the parent's id_key and "/", so a subtree is the
-- key range [k || '/', k || '0') under SQLite's bytewise BINARY collation.
-- body is the resource's JSON exactly as written, hence a BLOB.
CREATE TABLE resources (
    id_key             TEXT NOT NULL PRIMARY KEY,
    id                 TEXT NOT NULL,
    tenant_id          TEXT NOT NULL,
    subscription_id    TEXT NOT NULL,
    subscription_key   TEXT NOT NULL,
    resource_group     TEXT NOT NULL,
    resource_group_key TEXT NOT NULL,
    type               TEXT NOT NULL,
    type_key           TEXT NOT NULL,
    parent_id          TEXT NOT NULL,
    parent_key         TEXT NOT NULL,
    name               TEXT NOT NULL,
    location           TEXT NOT NULL,
    etag               TEXT NOT NULL,
    body               BLOB,
    created_by         TEXT NOT NULL,
    created_at         INTEGER,
    updated_at         INTEGER
) STRICT;
CREATE INDEX resources_children ON resources (subscription_key, parent_key, type_key);
CREATE INDEX resources_group ON resources (subscription_key, resource_group_key);
