-- Every audit query names its tenant, which audit_events_tenant_time serves;
-- the index on time alone was never read and cost every sign-in's commit one
-- more page.
DROP INDEX IF EXISTS audit_events_time;
