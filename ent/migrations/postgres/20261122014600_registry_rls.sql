-- Row-level security for the registry's tenant-owned tables (taxonomy,
-- regions, grids, components, imports), the same policies as
-- 20261122011100_row_level_security.sql gives the identity tables.

-- +goose Up

ALTER TABLE "taxonomy_classes" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "taxonomy_classes" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "taxonomy_classes" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "taxonomy_classes" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "filing_conditions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "filing_conditions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "filing_conditions" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "filing_conditions" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "regions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "regions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "regions" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "regions" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "unit_grids" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "unit_grids" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "unit_grids" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "unit_grids" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "work_grids" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "work_grids" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "work_grids" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "work_grids" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "grid_revisions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "grid_revisions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "grid_revisions" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "grid_revisions" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "components" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "components" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "components" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "components" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "import_jobs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "import_jobs" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "import_jobs" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "import_jobs" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- +goose Down

DROP POLICY IF EXISTS "system_access" ON "taxonomy_classes";
DROP POLICY IF EXISTS "tenant_isolation" ON "taxonomy_classes";
ALTER TABLE "taxonomy_classes" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "taxonomy_classes" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "filing_conditions";
DROP POLICY IF EXISTS "tenant_isolation" ON "filing_conditions";
ALTER TABLE "filing_conditions" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "filing_conditions" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "regions";
DROP POLICY IF EXISTS "tenant_isolation" ON "regions";
ALTER TABLE "regions" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "regions" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "unit_grids";
DROP POLICY IF EXISTS "tenant_isolation" ON "unit_grids";
ALTER TABLE "unit_grids" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "unit_grids" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "work_grids";
DROP POLICY IF EXISTS "tenant_isolation" ON "work_grids";
ALTER TABLE "work_grids" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "work_grids" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "grid_revisions";
DROP POLICY IF EXISTS "tenant_isolation" ON "grid_revisions";
ALTER TABLE "grid_revisions" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "grid_revisions" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "components";
DROP POLICY IF EXISTS "tenant_isolation" ON "components";
ALTER TABLE "components" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "components" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "import_jobs";
DROP POLICY IF EXISTS "tenant_isolation" ON "import_jobs";
ALTER TABLE "import_jobs" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "import_jobs" DISABLE ROW LEVEL SECURITY;
