-- Delegated consent (Graph's oAuth2PermissionGrant): one grant per client,
-- resource, consent type and principal ('' for AllPrincipals); more scopes
-- change the grant's scope.
CREATE TABLE oauth2_permission_grants (
    tenant_id    text        NOT NULL,
    id           text        NOT NULL,
    client_id    text        NOT NULL,
    consent_type text        NOT NULL,
    principal_id text        NOT NULL,
    resource_id  text        NOT NULL,
    scope        text        NOT NULL,
    created_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX oauth2_permission_grants_key
    ON oauth2_permission_grants (tenant_id, client_id, resource_id, consent_type, principal_id);
CREATE INDEX oauth2_permission_grants_resource ON oauth2_permission_grants (tenant_id, resource_id);
CREATE INDEX oauth2_permission_grants_principal ON oauth2_permission_grants (tenant_id, principal_id);

-- Token lifetime policies; at most one organisation default per tenant.
CREATE TABLE token_lifetime_policies (
    tenant_id      text        NOT NULL,
    id             text        NOT NULL,
    display_name   text        NOT NULL,
    definition     text        NOT NULL,
    is_org_default boolean     NOT NULL,
    created_at     timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX token_lifetime_policies_default
    ON token_lifetime_policies (tenant_id) WHERE is_org_default;
