-- Row-level security for the federation tables, as the earlier *_rls
-- migrations give the others: connectors, dead letters, the federated
-- store and commands are tenant-owned rows; peer_keys (the public keys of
-- senders) are the platform's own and reserved to cityops.system.

-- +goose Up

ALTER TABLE "connectors" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "connectors" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "connectors" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "connectors" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "dead_letters" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "dead_letters" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "dead_letters" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "dead_letters" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "federated_events" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "federated_events" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "federated_events" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "federated_events" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "federated_cases" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "federated_cases" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "federated_cases" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "federated_cases" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "federated_indicators" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "federated_indicators" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "federated_indicators" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "federated_indicators" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "federation_commands" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "federation_commands" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "federation_commands" FOR ALL
	USING ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint)
	WITH CHECK ("tenant_id" = nullif(current_setting('cityops.tenant_id', true), '')::bigint);
CREATE POLICY "system_access" ON "federation_commands" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

ALTER TABLE "peer_keys" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "peer_keys" FORCE ROW LEVEL SECURITY;
CREATE POLICY "system_only" ON "peer_keys" FOR ALL
	USING (current_setting('cityops.system', true) = 'on')
	WITH CHECK (current_setting('cityops.system', true) = 'on');

-- +goose Down

DROP POLICY IF EXISTS "system_only" ON "peer_keys";
ALTER TABLE "peer_keys" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "peer_keys" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "federation_commands";
DROP POLICY IF EXISTS "tenant_isolation" ON "federation_commands";
ALTER TABLE "federation_commands" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "federation_commands" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "federated_indicators";
DROP POLICY IF EXISTS "tenant_isolation" ON "federated_indicators";
ALTER TABLE "federated_indicators" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "federated_indicators" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "federated_cases";
DROP POLICY IF EXISTS "tenant_isolation" ON "federated_cases";
ALTER TABLE "federated_cases" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "federated_cases" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "federated_events";
DROP POLICY IF EXISTS "tenant_isolation" ON "federated_events";
ALTER TABLE "federated_events" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "federated_events" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "dead_letters";
DROP POLICY IF EXISTS "tenant_isolation" ON "dead_letters";
ALTER TABLE "dead_letters" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "dead_letters" DISABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "system_access" ON "connectors";
DROP POLICY IF EXISTS "tenant_isolation" ON "connectors";
ALTER TABLE "connectors" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "connectors" DISABLE ROW LEVEL SECURITY;
