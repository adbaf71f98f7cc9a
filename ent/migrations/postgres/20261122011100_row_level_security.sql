-- Row-level security: the second layer of tenant isolation, written by hand
-- (migrationgen only writes what the ent schema describes, and ent has no
-- notion of policies). The first layer is the ent privacy rules (ent/rule);
-- these policies repeat them in the database so that a query that slips past
-- ent (a bug in a rule, raw SQL, a forgotten filter) still cannot read or
-- write another tenant's rows.
--
-- The policies read three settings that app/pkg/database sets with
-- set_config(…, true), i.e. local to the transaction, as the first
-- statement of every transaction, from the viewer in the Go context:
--
--   cityops.tenant_id          the viewer's acting tenant id; '' when none
--   cityops.system             'on' for the platform's system viewer
--   cityops.platform_operator  'on' when the viewer holds platform_operator
--
-- An unset or empty setting matches nothing, so a statement without a viewer
-- sees no tenant-owned row (fail closed). current_setting(…, true) returns
-- NULL rather than failing when a setting was never defined in the session.
--
-- FORCE makes the policies bind the tables' owner too; only superusers and
-- BYPASSRLS roles skip them. The application connects as a role that is
-- neither (deploy/dev/ensure-postgres.sh, database.GrantApp). A later data
-- migration run as the owner must set cityops.system first.
--
-- The tenant id is cast to bigint, the type of every tenant_id column, so
-- the comparison can use the tenant_id indexes and no id overflows a cast.

-- +goose Up

-- Tenant-owned tables: the acting tenant's rows, or everything for the system.
ALTER TABLE "departments" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "departments" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "departments" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "departments" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "users" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "users" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "users" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "sessions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "sessions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "sessions" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "sessions" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "api_keys" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "api_keys" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "api_keys" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- The audit trail: a tenant reads its own entries, the system reads all and
-- appends. There is deliberately no UPDATE or DELETE policy, so with row
-- security those statements find no row; the trigger below makes them fail
-- loudly instead, for every role including the owner and superusers.
ALTER TABLE "audit_entries" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "audit_entries" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_read" ON "audit_entries" FOR SELECT
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_read" ON "audit_entries" FOR SELECT
	USING (current_setting('cityops.system', true) = 'on');
CREATE POLICY "system_append" ON "audit_entries" FOR INSERT
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- +goose StatementBegin
CREATE FUNCTION "cityops_audit_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'cityops: audit_entries is append-only (% refused)', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
-- Statement-level, so it fires even when row security leaves no row to
-- touch, and on TRUNCATE, which row security and row triggers do not see.
-- Archiving old entries means ALTER TABLE … DISABLE TRIGGER as the owner,
-- on purpose a visible step.
CREATE TRIGGER "audit_entries_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "audit_entries"
	FOR EACH STATEMENT EXECUTE FUNCTION "cityops_audit_append_only"();

-- Platform bookkeeping that only the system touches (SystemOnlyMixin).
ALTER TABLE "authz_rules" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "authz_rules" FORCE ROW LEVEL SECURITY;
CREATE POLICY "system_only" ON "authz_rules" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "authz_revisions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "authz_revisions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "system_only" ON "authz_revisions" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "login_throttles" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "login_throttles" FORCE ROW LEVEL SECURITY;
CREATE POLICY "system_only" ON "login_throttles" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "audit_heads" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "audit_heads" FORCE ROW LEVEL SECURITY;
CREATE POLICY "system_only" ON "audit_heads" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- The tenant registry: every session reads it (the ent rule allows any
-- viewer; the hierarchy and authentication look tenants up before a tenant
-- is chosen); only the system or a platform operator writes it.
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenants" FORCE ROW LEVEL SECURITY;
CREATE POLICY "registry_read" ON "tenants" FOR SELECT
	USING (true);
CREATE POLICY "registry_write" ON "tenants" FOR ALL
	USING (current_setting('cityops.system', true) = 'on' OR current_setting('cityops.platform_operator', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on' OR current_setting('cityops.platform_operator', true) = 'on');

-- +goose Down
DROP POLICY "registry_write" ON "tenants";
DROP POLICY "registry_read" ON "tenants";
ALTER TABLE "tenants" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "tenants" DISABLE ROW LEVEL SECURITY;

DROP POLICY "system_only" ON "audit_heads";
ALTER TABLE "audit_heads" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "audit_heads" DISABLE ROW LEVEL SECURITY;
DROP POLICY "system_only" ON "login_throttles";
ALTER TABLE "login_throttles" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "login_throttles" DISABLE ROW LEVEL SECURITY;
DROP POLICY "system_only" ON "authz_revisions";
ALTER TABLE "authz_revisions" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "authz_revisions" DISABLE ROW LEVEL SECURITY;
DROP POLICY "system_only" ON "authz_rules";
ALTER TABLE "authz_rules" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "authz_rules" DISABLE ROW LEVEL SECURITY;

DROP TRIGGER "audit_entries_append_only" ON "audit_entries";
DROP FUNCTION "cityops_audit_append_only"();
DROP POLICY "system_append" ON "audit_entries";
DROP POLICY "system_read" ON "audit_entries";
DROP POLICY "tenant_read" ON "audit_entries";
ALTER TABLE "audit_entries" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "audit_entries" DISABLE ROW LEVEL SECURITY;

DROP POLICY "system_access" ON "api_keys";
DROP POLICY "tenant_isolation" ON "api_keys";
ALTER TABLE "api_keys" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "api_keys" DISABLE ROW LEVEL SECURITY;
DROP POLICY "system_access" ON "sessions";
DROP POLICY "tenant_isolation" ON "sessions";
ALTER TABLE "sessions" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "sessions" DISABLE ROW LEVEL SECURITY;
DROP POLICY "system_access" ON "users";
DROP POLICY "tenant_isolation" ON "users";
ALTER TABLE "users" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "users" DISABLE ROW LEVEL SECURITY;
DROP POLICY "system_access" ON "departments";
DROP POLICY "tenant_isolation" ON "departments";
ALTER TABLE "departments" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "departments" DISABLE ROW LEVEL SECURITY;
