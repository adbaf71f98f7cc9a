-- Row-level security for the dispatch matrix and supervision tables, as
-- 20261122022200_caseflow_rls.sql gives the case loop's. The five are
-- ordinary tenant-owned rows; leases (the scheduler's leadership) are the
-- platform's own and reserved to cityops.system.

-- +goose Up

ALTER TABLE "dispatch_rules" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "dispatch_rules" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "dispatch_rules" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "dispatch_rules" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "dispatch_class_switches" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "dispatch_class_switches" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "dispatch_class_switches" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "dispatch_class_switches" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "supervision_orders" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "supervision_orders" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "supervision_orders" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "supervision_orders" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "escalation_levels" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "escalation_levels" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "escalation_levels" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "escalation_levels" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "notifications" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "notifications" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "notifications" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "notifications" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "leases" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "leases" FORCE ROW LEVEL SECURITY;
CREATE POLICY "system_only" ON "leases" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- +goose Down

DROP POLICY IF EXISTS "system_only" ON "leases";
ALTER TABLE "leases" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "leases" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "notifications";
DROP POLICY IF EXISTS "tenant_isolation" ON "notifications";
ALTER TABLE "notifications" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "notifications" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "escalation_levels";
DROP POLICY IF EXISTS "tenant_isolation" ON "escalation_levels";
ALTER TABLE "escalation_levels" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "escalation_levels" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "supervision_orders";
DROP POLICY IF EXISTS "tenant_isolation" ON "supervision_orders";
ALTER TABLE "supervision_orders" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "supervision_orders" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "dispatch_class_switches";
DROP POLICY IF EXISTS "tenant_isolation" ON "dispatch_class_switches";
ALTER TABLE "dispatch_class_switches" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "dispatch_class_switches" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "dispatch_rules";
DROP POLICY IF EXISTS "tenant_isolation" ON "dispatch_rules";
ALTER TABLE "dispatch_rules" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "dispatch_rules" DISABLE ROW LEVEL SECURITY;
