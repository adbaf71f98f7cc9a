-- Row-level security for the evaluation tables (考评): schemes, runs,
-- scores, appeals, inputs and the ledger are tenant-owned rows.

-- +goose Up

ALTER TABLE "evaluation_schemes" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "evaluation_schemes" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "evaluation_schemes" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "evaluation_schemes" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "evaluation_runs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "evaluation_runs" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "evaluation_runs" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "evaluation_runs" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "evaluation_scores" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "evaluation_scores" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "evaluation_scores" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "evaluation_scores" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "evaluation_appeals" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "evaluation_appeals" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "evaluation_appeals" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "evaluation_appeals" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "evaluation_inputs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "evaluation_inputs" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "evaluation_inputs" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "evaluation_inputs" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "ledger_entries" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "ledger_entries" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "ledger_entries" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "ledger_entries" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- +goose Down
DROP POLICY IF EXISTS "system_access" ON "evaluation_schemes";
DROP POLICY IF EXISTS "tenant_isolation" ON "evaluation_schemes";
ALTER TABLE "evaluation_schemes" DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "system_access" ON "evaluation_runs";
DROP POLICY IF EXISTS "tenant_isolation" ON "evaluation_runs";
ALTER TABLE "evaluation_runs" DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "system_access" ON "evaluation_scores";
DROP POLICY IF EXISTS "tenant_isolation" ON "evaluation_scores";
ALTER TABLE "evaluation_scores" DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "system_access" ON "evaluation_appeals";
DROP POLICY IF EXISTS "tenant_isolation" ON "evaluation_appeals";
ALTER TABLE "evaluation_appeals" DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "system_access" ON "evaluation_inputs";
DROP POLICY IF EXISTS "tenant_isolation" ON "evaluation_inputs";
ALTER TABLE "evaluation_inputs" DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "system_access" ON "ledger_entries";
DROP POLICY IF EXISTS "tenant_isolation" ON "ledger_entries";
ALTER TABLE "ledger_entries" DISABLE ROW LEVEL SECURITY;
