-- +goose Up
-- create "departments" table
CREATE TABLE `departments` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `code` text NOT NULL, `name_zh` text NOT NULL, `name_en` text NOT NULL DEFAULT (''), `kind` text NOT NULL, `contacts` json NOT NULL, `status` text NOT NULL DEFAULT ('active'), `tenant_id` integer NOT NULL, CONSTRAINT `departments_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "department_tenant_id" to table: "departments"
CREATE INDEX `department_tenant_id` ON `departments` (`tenant_id`);
-- create index "department_tenant_id_code" to table: "departments"
CREATE UNIQUE INDEX `department_tenant_id_code` ON `departments` (`tenant_id`, `code`);
-- create "tenants" table
CREATE TABLE `tenants` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `code` text NOT NULL, `slug` text NOT NULL, `name_zh` text NOT NULL, `name_en` text NOT NULL DEFAULT (''), `level` text NOT NULL, `management_area` bool NOT NULL DEFAULT (false), `path` text NOT NULL, `depth` integer NOT NULL, `status` text NOT NULL DEFAULT ('active'), `suspended_reason` text NOT NULL DEFAULT (''), `isolation` text NOT NULL DEFAULT ('shared'), `time_zone` text NOT NULL DEFAULT ('Asia/Shanghai'), `parent_id` integer NULL, CONSTRAINT `tenants_tenants_children` FOREIGN KEY (`parent_id`) REFERENCES `tenants` (`id`) ON DELETE SET NULL);
-- create index "tenants_code_key" to table: "tenants"
CREATE UNIQUE INDEX `tenants_code_key` ON `tenants` (`code`);
-- create index "tenants_slug_key" to table: "tenants"
CREATE UNIQUE INDEX `tenants_slug_key` ON `tenants` (`slug`);
-- create index "tenant_level_status" to table: "tenants"
CREATE INDEX `tenant_level_status` ON `tenants` (`level`, `status`);
-- create index "tenant_parent_id" to table: "tenants"
CREATE INDEX `tenant_parent_id` ON `tenants` (`parent_id`);
-- create index "tenant_path" to table: "tenants"
CREATE INDEX `tenant_path` ON `tenants` (`path`);

-- +goose Down
-- reverse: create index "tenant_path" to table: "tenants"
DROP INDEX `tenant_path`;
-- reverse: create index "tenant_parent_id" to table: "tenants"
DROP INDEX `tenant_parent_id`;
-- reverse: create index "tenant_level_status" to table: "tenants"
DROP INDEX `tenant_level_status`;
-- reverse: create index "tenants_slug_key" to table: "tenants"
DROP INDEX `tenants_slug_key`;
-- reverse: create index "tenants_code_key" to table: "tenants"
DROP INDEX `tenants_code_key`;
-- reverse: create "tenants" table
DROP TABLE `tenants`;
-- reverse: create index "department_tenant_id_code" to table: "departments"
DROP INDEX `department_tenant_id_code`;
-- reverse: create index "department_tenant_id" to table: "departments"
DROP INDEX `department_tenant_id`;
-- reverse: create "departments" table
DROP TABLE `departments`;
