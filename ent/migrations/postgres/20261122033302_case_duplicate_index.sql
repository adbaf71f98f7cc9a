-- +goose Up
-- drop index "casefile_tenant_id_class_code_reported_at" from table: "cases"
DROP INDEX "casefile_tenant_id_class_code_reported_at";
-- create index "casefile_tenant_id_class_code_lat" to table: "cases"
CREATE INDEX "casefile_tenant_id_class_code_lat" ON "cases" ("tenant_id", "class_code", "lat");

-- +goose Down
-- reverse: create index "casefile_tenant_id_class_code_lat" to table: "cases"
DROP INDEX "casefile_tenant_id_class_code_lat";
-- reverse: drop index "casefile_tenant_id_class_code_reported_at" from table: "cases"
CREATE INDEX "casefile_tenant_id_class_code_reported_at" ON "cases" ("tenant_id", "class_code", "reported_at");
