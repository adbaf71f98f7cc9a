-- Row-level security for the case loop's tables, as
-- 20261122011100_row_level_security.sql and 20261122014600_registry_rls.sql
-- give the others. cases and the two counters are ordinary tenant-owned
-- rows. case_steps (a case's timeline) and tenant_events (the outbox the
-- relay publishes) are append-only: the acting tenant reads and appends its
-- own rows, the system reads and appends all, and there is deliberately no
-- UPDATE or DELETE policy; the trigger makes such statements fail loudly
-- for every role, the owner included, as for audit_entries.

-- +goose Up

ALTER TABLE "cases" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "cases" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "cases" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "cases" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "case_number_counters" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "case_number_counters" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "case_number_counters" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "case_number_counters" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "event_heads" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "event_heads" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "event_heads" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "event_heads" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- +goose StatementBegin
CREATE FUNCTION "cityops_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'cityops: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

ALTER TABLE "case_steps" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "case_steps" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_read" ON "case_steps" FOR SELECT
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "tenant_append" ON "case_steps" FOR INSERT
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_read" ON "case_steps" FOR SELECT
	USING (current_setting('cityops.system', true) = 'on');
CREATE POLICY "system_append" ON "case_steps" FOR INSERT
	WITH CHECK (current_setting('cityops.system', true) = 'on');
-- Statement-level, so it fires even when row security leaves no row to
-- touch, and on TRUNCATE.
CREATE TRIGGER "case_steps_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "case_steps"
	FOR EACH STATEMENT EXECUTE FUNCTION "cityops_append_only"();

ALTER TABLE "tenant_events" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenant_events" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_read" ON "tenant_events" FOR SELECT
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "tenant_append" ON "tenant_events" FOR INSERT
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_read" ON "tenant_events" FOR SELECT
	USING (current_setting('cityops.system', true) = 'on');
CREATE POLICY "system_append" ON "tenant_events" FOR INSERT
	WITH CHECK (current_setting('cityops.system', true) = 'on');
-- Statement-level, so it fires even when row security leaves no row to
-- touch, and on TRUNCATE.
CREATE TRIGGER "tenant_events_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "tenant_events"
	FOR EACH STATEMENT EXECUTE FUNCTION "cityops_append_only"();

-- +goose Down

DROP TRIGGER IF EXISTS "tenant_events_append_only" ON "tenant_events";
DROP POLICY IF EXISTS "system_append" ON "tenant_events";
DROP POLICY IF EXISTS "system_read" ON "tenant_events";
DROP POLICY IF EXISTS "tenant_append" ON "tenant_events";
DROP POLICY IF EXISTS "tenant_read" ON "tenant_events";
ALTER TABLE "tenant_events" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "tenant_events" DISABLE ROW LEVEL SECURITY;

DROP TRIGGER IF EXISTS "case_steps_append_only" ON "case_steps";
DROP POLICY IF EXISTS "system_append" ON "case_steps";
DROP POLICY IF EXISTS "system_read" ON "case_steps";
DROP POLICY IF EXISTS "tenant_append" ON "case_steps";
DROP POLICY IF EXISTS "tenant_read" ON "case_steps";
ALTER TABLE "case_steps" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "case_steps" DISABLE ROW LEVEL SECURITY;

DROP FUNCTION IF EXISTS "cityops_append_only"();

DROP POLICY IF EXISTS "system_access" ON "event_heads";
DROP POLICY IF EXISTS "tenant_isolation" ON "event_heads";
ALTER TABLE "event_heads" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "event_heads" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "case_number_counters";
DROP POLICY IF EXISTS "tenant_isolation" ON "case_number_counters";
ALTER TABLE "case_number_counters" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "case_number_counters" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "cases";
DROP POLICY IF EXISTS "tenant_isolation" ON "cases";
ALTER TABLE "cases" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "cases" DISABLE ROW LEVEL SECURITY;
