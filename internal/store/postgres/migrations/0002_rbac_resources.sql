-- Groups and their direct members, custom role definitions, and ARM
-- resources. The conventions of 0001_init.sql hold: _key columns are
-- strings.ToLower of a value compared case-insensitively, computed in Go;
-- times are timestamptz (microseconds), NULL for the zero time.

-- Group and member ids are directory object ids, compared exactly like the
-- ids of users and service principals.
CREATE TABLE directory_groups (
    tenant_id        text        NOT NULL,
    id               text        NOT NULL,
    display_name     text        NOT NULL,
    mail_nickname    text        NOT NULL,
    security_enabled boolean     NOT NULL,
    mail_enabled     boolean     NOT NULL,
    created_at       timestamptz,
    PRIMARY KEY (tenant_id, id)
);

-- One row per direct edge: member_id (a user, service principal or group)
-- is a member of group_id. No foreign keys: a member may be any kind of
-- object, and the rules about what may join what live above the store.
CREATE TABLE group_members (
    tenant_id text NOT NULL,
    group_id  text NOT NULL,
    member_id text NOT NULL,
    PRIMARY KEY (tenant_id, group_id, member_id)
);
-- DeleteGroup removes the edges where the group is the member, too.
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

-- Custom role definitions. The id is a GUID that ARM compares
-- case-insensitively; doc holds the whole record (see records_rbac.go).
-- Azure refuses two custom roles of one name in a tenant, in any case.
CREATE TABLE role_definitions (
    id_key        text        NOT NULL PRIMARY KEY,
    tenant_id     text        NOT NULL,
    role_name_key text        NOT NULL,
    created_at    timestamptz,
    doc           jsonb       NOT NULL
);
CREATE UNIQUE INDEX role_definitions_name ON role_definitions (tenant_id, role_name_key);

-- ARM resources as documents. id keeps the casing the resource was created
-- with; id_key is the lookup key. Every resource below a resource has an
-- id_key that starts with the parent's id_key and '/', so a subtree is the
-- key range [k || '/', k || '0'). That holds only for a bytewise order, so
-- id_key is COLLATE "C" whatever the database's collation; equality is the
-- same under every deterministic collation.
-- body is the resource's JSON exactly as written, hence bytea, not jsonb
-- (which would reorder keys and drop whitespace).
CREATE TABLE resources (
    id_key             text COLLATE "C" NOT NULL PRIMARY KEY,
    id                 text        NOT NULL,
    tenant_id          text        NOT NULL,
    subscription_id    text        NOT NULL,
    subscription_key   text        NOT NULL,
    resource_group     text        NOT NULL,
    resource_group_key text        NOT NULL,
    type               text        NOT NULL,
    type_key           text        NOT NULL,
    parent_id          text        NOT NULL,
    parent_key         text        NOT NULL,
    name               text        NOT NULL,
    location           text        NOT NULL,
    etag               text        NOT NULL,
    body               bytea,
    created_by         text        NOT NULL,
    created_at         timestamptz,
    updated_at         timestamptz
);
CREATE INDEX resources_children ON resources (subscription_key, parent_key, type_key);
CREATE INDEX resources_group ON resources (subscription_key, resource_group_key);
