-- +goose Up
-- create "components" table
CREATE TABLE `components` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `obj_id` text NOT NULL, `scheme` text NOT NULL, `class_code` text NOT NULL, `name` text NOT NULL DEFAULT (''), `main_dept_code` text NOT NULL DEFAULT (''), `main_dept_name` text NOT NULL DEFAULT (''), `owner_code` text NOT NULL DEFAULT (''), `owner_name` text NOT NULL DEFAULT (''), `maintainer_code` text NOT NULL DEFAULT (''), `maintainer_name` text NOT NULL DEFAULT (''), `grid_code` text NOT NULL DEFAULT (''), `street_code` text NOT NULL DEFAULT (''), `community_code` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('good'), `initial_date` text NOT NULL DEFAULT (''), `change_date` text NOT NULL DEFAULT (''), `data_source` text NOT NULL DEFAULT (''), `note` text NOT NULL DEFAULT (''), `lon` real NOT NULL, `lat` real NOT NULL, `geometry` text NOT NULL DEFAULT (''), `row_hash` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `components_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "component_tenant_id" to table: "components"
CREATE INDEX `component_tenant_id` ON `components` (`tenant_id`);
-- create index "component_tenant_id_obj_id" to table: "components"
CREATE UNIQUE INDEX `component_tenant_id_obj_id` ON `components` (`tenant_id`, `obj_id`);
-- create index "component_tenant_id_class_code" to table: "components"
CREATE INDEX `component_tenant_id_class_code` ON `components` (`tenant_id`, `class_code`);
-- create index "component_tenant_id_grid_code" to table: "components"
CREATE INDEX `component_tenant_id_grid_code` ON `components` (`tenant_id`, `grid_code`);
-- create index "component_tenant_id_status" to table: "components"
CREATE INDEX `component_tenant_id_status` ON `components` (`tenant_id`, `status`);
-- create index "component_tenant_id_owner_code" to table: "components"
CREATE INDEX `component_tenant_id_owner_code` ON `components` (`tenant_id`, `owner_code`);
-- create index "component_tenant_id_lon_lat" to table: "components"
CREATE INDEX `component_tenant_id_lon_lat` ON `components` (`tenant_id`, `lon`, `lat`);
-- create "filing_conditions" table
CREATE TABLE `filing_conditions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `kind` text NOT NULL, `class_code` text NOT NULL, `code` text NOT NULL, `filing_text` text NOT NULL, `closing_text` text NOT NULL DEFAULT (''), `urgency` text NOT NULL DEFAULT ('normal'), `time_limits` json NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `filing_conditions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "filingcondition_tenant_id" to table: "filing_conditions"
CREATE INDEX `filingcondition_tenant_id` ON `filing_conditions` (`tenant_id`);
-- create index "filingcondition_tenant_id_version_kind_class_code_code" to table: "filing_conditions"
CREATE UNIQUE INDEX `filingcondition_tenant_id_version_kind_class_code_code` ON `filing_conditions` (`tenant_id`, `version`, `kind`, `class_code`, `code`);
-- create "grid_revisions" table
CREATE TABLE `grid_revisions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `revision` integer NOT NULL DEFAULT (0), `updated_at` datetime NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `grid_revisions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "gridrevision_tenant_id" to table: "grid_revisions"
CREATE INDEX `gridrevision_tenant_id` ON `grid_revisions` (`tenant_id`);
-- create index "grid_revisions_tenant_unique" to table: "grid_revisions"
CREATE UNIQUE INDEX `grid_revisions_tenant_unique` ON `grid_revisions` (`tenant_id`);
-- create "import_jobs" table
CREATE TABLE `import_jobs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `source` text NOT NULL, `checksum` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `inserted` integer NOT NULL DEFAULT (0), `updated` integer NOT NULL DEFAULT (0), `unchanged` integer NOT NULL DEFAULT (0), `rejected` integer NOT NULL DEFAULT (0), `status` text NOT NULL DEFAULT ('running'), `tenant_id` integer NOT NULL, CONSTRAINT `import_jobs_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "importjob_tenant_id" to table: "import_jobs"
CREATE INDEX `importjob_tenant_id` ON `import_jobs` (`tenant_id`);
-- create index "importjob_tenant_id_kind_checksum" to table: "import_jobs"
CREATE INDEX `importjob_tenant_id_kind_checksum` ON `import_jobs` (`tenant_id`, `kind`, `checksum`);
-- create "regions" table
CREATE TABLE `regions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `level` text NOT NULL, `code` text NOT NULL, `parent_code` text NOT NULL DEFAULT (''), `name_zh` text NOT NULL, `geometry` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `regions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "region_tenant_id" to table: "regions"
CREATE INDEX `region_tenant_id` ON `regions` (`tenant_id`);
-- create index "region_tenant_id_code" to table: "regions"
CREATE UNIQUE INDEX `region_tenant_id_code` ON `regions` (`tenant_id`, `code`);
-- create "taxonomy_classes" table
CREATE TABLE `taxonomy_classes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scheme` text NOT NULL, `version` integer NOT NULL DEFAULT (1), `kind` text NOT NULL, `level` text NOT NULL, `code` text NOT NULL, `parent_code` text NOT NULL DEFAULT (''), `name_zh` text NOT NULL, `name_en` text NOT NULL DEFAULT (''), `national_code` text NOT NULL DEFAULT (''), `local` bool NOT NULL DEFAULT (false), `active` bool NOT NULL DEFAULT (true), `tenant_id` integer NOT NULL, CONSTRAINT `taxonomy_classes_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "taxonomyclass_tenant_id" to table: "taxonomy_classes"
CREATE INDEX `taxonomyclass_tenant_id` ON `taxonomy_classes` (`tenant_id`);
-- create index "taxonomyclass_tenant_id_version_kind_code" to table: "taxonomy_classes"
CREATE UNIQUE INDEX `taxonomyclass_tenant_id_version_kind_code` ON `taxonomy_classes` (`tenant_id`, `version`, `kind`, `code`);
-- create index "taxonomyclass_tenant_id_version_kind_parent_code" to table: "taxonomy_classes"
CREATE INDEX `taxonomyclass_tenant_id_version_kind_parent_code` ON `taxonomy_classes` (`tenant_id`, `version`, `kind`, `parent_code`);
-- create "unit_grids" table
CREATE TABLE `unit_grids` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `code` text NOT NULL, `community_code` text NOT NULL, `street_code` text NOT NULL, `area_class` text NOT NULL DEFAULT (''), `land_use` text NOT NULL DEFAULT (''), `responsible` text NOT NULL DEFAULT (''), `geometry` text NOT NULL, `min_lon` real NOT NULL, `min_lat` real NOT NULL, `max_lon` real NOT NULL, `max_lat` real NOT NULL, `area_m2` real NOT NULL, `valid_from` datetime NOT NULL, `valid_to` datetime NULL, `tenant_id` integer NOT NULL, CONSTRAINT `unit_grids_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "unitgrid_tenant_id" to table: "unit_grids"
CREATE INDEX `unitgrid_tenant_id` ON `unit_grids` (`tenant_id`);
-- create index "unitgrid_tenant_id_code_valid_from" to table: "unit_grids"
CREATE UNIQUE INDEX `unitgrid_tenant_id_code_valid_from` ON `unit_grids` (`tenant_id`, `code`, `valid_from`);
-- create index "unitgrid_tenant_id_valid_to" to table: "unit_grids"
CREATE INDEX `unitgrid_tenant_id_valid_to` ON `unit_grids` (`tenant_id`, `valid_to`);
-- create index "unitgrid_tenant_id_community_code" to table: "unit_grids"
CREATE INDEX `unitgrid_tenant_id_community_code` ON `unit_grids` (`tenant_id`, `community_code`);
-- create "work_grids" table
CREATE TABLE `work_grids` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `code` text NOT NULL, `name_zh` text NOT NULL, `geometry` text NOT NULL DEFAULT (''), `unit_grid_codes` json NULL, `assignees` json NULL, `department_code` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `work_grids_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "workgrid_tenant_id" to table: "work_grids"
CREATE INDEX `workgrid_tenant_id` ON `work_grids` (`tenant_id`);
-- create index "workgrid_tenant_id_kind_code" to table: "work_grids"
CREATE UNIQUE INDEX `workgrid_tenant_id_kind_code` ON `work_grids` (`tenant_id`, `kind`, `code`);

-- +goose Down
-- reverse: create index "workgrid_tenant_id_kind_code" to table: "work_grids"
DROP INDEX `workgrid_tenant_id_kind_code`;
-- reverse: create index "workgrid_tenant_id" to table: "work_grids"
DROP INDEX `workgrid_tenant_id`;
-- reverse: create "work_grids" table
DROP TABLE `work_grids`;
-- reverse: create index "unitgrid_tenant_id_community_code" to table: "unit_grids"
DROP INDEX `unitgrid_tenant_id_community_code`;
-- reverse: create index "unitgrid_tenant_id_valid_to" to table: "unit_grids"
DROP INDEX `unitgrid_tenant_id_valid_to`;
-- reverse: create index "unitgrid_tenant_id_code_valid_from" to table: "unit_grids"
DROP INDEX `unitgrid_tenant_id_code_valid_from`;
-- reverse: create index "unitgrid_tenant_id" to table: "unit_grids"
DROP INDEX `unitgrid_tenant_id`;
-- reverse: create "unit_grids" table
DROP TABLE `unit_grids`;
-- reverse: create index "taxonomyclass_tenant_id_version_kind_parent_code" to table: "taxonomy_classes"
DROP INDEX `taxonomyclass_tenant_id_version_kind_parent_code`;
-- reverse: create index "taxonomyclass_tenant_id_version_kind_code" to table: "taxonomy_classes"
DROP INDEX `taxonomyclass_tenant_id_version_kind_code`;
-- reverse: create index "taxonomyclass_tenant_id" to table: "taxonomy_classes"
DROP INDEX `taxonomyclass_tenant_id`;
-- reverse: create "taxonomy_classes" table
DROP TABLE `taxonomy_classes`;
-- reverse: create index "region_tenant_id_code" to table: "regions"
DROP INDEX `region_tenant_id_code`;
-- reverse: create index "region_tenant_id" to table: "regions"
DROP INDEX `region_tenant_id`;
-- reverse: create "regions" table
DROP TABLE `regions`;
-- reverse: create index "importjob_tenant_id_kind_checksum" to table: "import_jobs"
DROP INDEX `importjob_tenant_id_kind_checksum`;
-- reverse: create index "importjob_tenant_id" to table: "import_jobs"
DROP INDEX `importjob_tenant_id`;
-- reverse: create "import_jobs" table
DROP TABLE `import_jobs`;
-- reverse: create index "grid_revisions_tenant_unique" to table: "grid_revisions"
DROP INDEX `grid_revisions_tenant_unique`;
-- reverse: create index "gridrevision_tenant_id" to table: "grid_revisions"
DROP INDEX `gridrevision_tenant_id`;
-- reverse: create "grid_revisions" table
DROP TABLE `grid_revisions`;
-- reverse: create index "filingcondition_tenant_id_version_kind_class_code_code" to table: "filing_conditions"
DROP INDEX `filingcondition_tenant_id_version_kind_class_code_code`;
-- reverse: create index "filingcondition_tenant_id" to table: "filing_conditions"
DROP INDEX `filingcondition_tenant_id`;
-- reverse: create "filing_conditions" table
DROP TABLE `filing_conditions`;
-- reverse: create index "component_tenant_id_lon_lat" to table: "components"
DROP INDEX `component_tenant_id_lon_lat`;
-- reverse: create index "component_tenant_id_owner_code" to table: "components"
DROP INDEX `component_tenant_id_owner_code`;
-- reverse: create index "component_tenant_id_status" to table: "components"
DROP INDEX `component_tenant_id_status`;
-- reverse: create index "component_tenant_id_grid_code" to table: "components"
DROP INDEX `component_tenant_id_grid_code`;
-- reverse: create index "component_tenant_id_class_code" to table: "components"
DROP INDEX `component_tenant_id_class_code`;
-- reverse: create index "component_tenant_id_obj_id" to table: "components"
DROP INDEX `component_tenant_id_obj_id`;
-- reverse: create index "component_tenant_id" to table: "components"
DROP INDEX `component_tenant_id`;
-- reverse: create "components" table
DROP TABLE `components`;
