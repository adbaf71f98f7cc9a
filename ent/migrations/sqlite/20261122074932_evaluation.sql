-- +goose Up
-- create "evaluation_appeals" table
CREATE TABLE `evaluation_appeals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `period` text NOT NULL, `case_number` text NOT NULL, `object_type` text NOT NULL, `object_code` text NOT NULL, `reason` text NOT NULL, `statement` text NOT NULL DEFAULT (''), `evidence` json NOT NULL, `filed_by` text NOT NULL, `status` text NOT NULL DEFAULT ('pending'), `remedy` text NOT NULL DEFAULT ('none'), `reassign_to` text NOT NULL DEFAULT (''), `opinion` text NOT NULL DEFAULT (''), `decided_by` text NOT NULL DEFAULT (''), `decided_at` datetime NULL, `tenant_id` integer NOT NULL, CONSTRAINT `evaluation_appeals_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "evaluationappeal_tenant_id" to table: "evaluation_appeals"
CREATE INDEX `evaluationappeal_tenant_id` ON `evaluation_appeals` (`tenant_id`);
-- create index "evaluationappeal_tenant_id_period_case_number_object_code" to table: "evaluation_appeals"
CREATE UNIQUE INDEX `evaluationappeal_tenant_id_period_case_number_object_code` ON `evaluation_appeals` (`tenant_id`, `period`, `case_number`, `object_code`);
-- create index "evaluationappeal_tenant_id_period_status" to table: "evaluation_appeals"
CREATE INDEX `evaluationappeal_tenant_id_period_status` ON `evaluation_appeals` (`tenant_id`, `period`, `status`);
-- create "evaluation_inputs" table
CREATE TABLE `evaluation_inputs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `period` text NOT NULL, `source` text NOT NULL, `object_type` text NOT NULL, `object_code` text NOT NULL, `item` text NOT NULL DEFAULT (''), `value` real NOT NULL, `inspector` text NOT NULL DEFAULT (''), `evidence` json NOT NULL, `note` text NOT NULL DEFAULT (''), `recorded_by` text NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `evaluation_inputs_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "evaluationinput_tenant_id" to table: "evaluation_inputs"
CREATE INDEX `evaluationinput_tenant_id` ON `evaluation_inputs` (`tenant_id`);
-- create index "evaluationinput_tenant_id_period_source" to table: "evaluation_inputs"
CREATE INDEX `evaluationinput_tenant_id_period_source` ON `evaluation_inputs` (`tenant_id`, `period`, `source`);
-- create "evaluation_runs" table
CREATE TABLE `evaluation_runs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scheme_code` text NOT NULL, `scheme_version` integer NOT NULL, `period` text NOT NULL, `period_start` datetime NOT NULL, `period_end` datetime NOT NULL, `status` text NOT NULL DEFAULT ('open'), `appeal_until` datetime NULL, `computed_at` datetime NOT NULL, `frozen_at` datetime NULL, `published_at` datetime NULL, `frozen_by` text NOT NULL DEFAULT (''), `summary` blob NULL, `digest` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `evaluation_runs_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "evaluationrun_tenant_id" to table: "evaluation_runs"
CREATE INDEX `evaluationrun_tenant_id` ON `evaluation_runs` (`tenant_id`);
-- create index "evaluationrun_tenant_id_scheme_code_period" to table: "evaluation_runs"
CREATE UNIQUE INDEX `evaluationrun_tenant_id_scheme_code_period` ON `evaluation_runs` (`tenant_id`, `scheme_code`, `period`);
-- create "evaluation_schemes" table
CREATE TABLE `evaluation_schemes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `code` text NOT NULL, `version` integer NOT NULL, `name` text NOT NULL DEFAULT (''), `base_code` text NOT NULL DEFAULT (''), `effective_from` datetime NOT NULL, `source` text NOT NULL, `created_by` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `evaluation_schemes_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "evaluationscheme_tenant_id" to table: "evaluation_schemes"
CREATE INDEX `evaluationscheme_tenant_id` ON `evaluation_schemes` (`tenant_id`);
-- create index "evaluationscheme_tenant_id_code_version" to table: "evaluation_schemes"
CREATE UNIQUE INDEX `evaluationscheme_tenant_id_code_version` ON `evaluation_schemes` (`tenant_id`, `code`, `version`);
-- create "evaluation_scores" table
CREATE TABLE `evaluation_scores` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `run_id` integer NOT NULL, `kind` text NOT NULL, `object_type` text NOT NULL, `object_code` text NOT NULL, `indicator` text NOT NULL, `value` real NOT NULL, `score` real NOT NULL, `weight` real NOT NULL, `contribution` real NOT NULL DEFAULT (0), `case_count` integer NOT NULL DEFAULT (0), `position` integer NOT NULL DEFAULT (0), `cases` json NULL, `tenant_id` integer NOT NULL, CONSTRAINT `evaluation_scores_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "evaluationscore_tenant_id" to table: "evaluation_scores"
CREATE INDEX `evaluationscore_tenant_id` ON `evaluation_scores` (`tenant_id`);
-- create index "evaluationscore_tenant_id_run_id_kind_object_type_object_code" to table: "evaluation_scores"
CREATE INDEX `evaluationscore_tenant_id_run_id_kind_object_type_object_code` ON `evaluation_scores` (`tenant_id`, `run_id`, `kind`, `object_type`, `object_code`);
-- create "ledger_entries" table
CREATE TABLE `ledger_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `object_type` text NOT NULL, `object_code` text NOT NULL, `period` text NOT NULL, `kind` text NOT NULL, `amount_fen` integer NOT NULL, `reason` text NOT NULL DEFAULT (''), `run_id` integer NULL, `case_number` text NOT NULL DEFAULT (''), `recorded_by` text NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `ledger_entries_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "ledgerentry_tenant_id" to table: "ledger_entries"
CREATE INDEX `ledgerentry_tenant_id` ON `ledger_entries` (`tenant_id`);
-- create index "ledgerentry_tenant_id_object_code_period" to table: "ledger_entries"
CREATE INDEX `ledgerentry_tenant_id_object_code_period` ON `ledger_entries` (`tenant_id`, `object_code`, `period`);
-- create index "ledgerentry_tenant_id_period" to table: "ledger_entries"
CREATE INDEX `ledgerentry_tenant_id_period` ON `ledger_entries` (`tenant_id`, `period`);

-- +goose Down
-- reverse: create index "ledgerentry_tenant_id_period" to table: "ledger_entries"
DROP INDEX `ledgerentry_tenant_id_period`;
-- reverse: create index "ledgerentry_tenant_id_object_code_period" to table: "ledger_entries"
DROP INDEX `ledgerentry_tenant_id_object_code_period`;
-- reverse: create index "ledgerentry_tenant_id" to table: "ledger_entries"
DROP INDEX `ledgerentry_tenant_id`;
-- reverse: create "ledger_entries" table
DROP TABLE `ledger_entries`;
-- reverse: create index "evaluationscore_tenant_id_run_id_kind_object_type_object_code" to table: "evaluation_scores"
DROP INDEX `evaluationscore_tenant_id_run_id_kind_object_type_object_code`;
-- reverse: create index "evaluationscore_tenant_id" to table: "evaluation_scores"
DROP INDEX `evaluationscore_tenant_id`;
-- reverse: create "evaluation_scores" table
DROP TABLE `evaluation_scores`;
-- reverse: create index "evaluationscheme_tenant_id_code_version" to table: "evaluation_schemes"
DROP INDEX `evaluationscheme_tenant_id_code_version`;
-- reverse: create index "evaluationscheme_tenant_id" to table: "evaluation_schemes"
DROP INDEX `evaluationscheme_tenant_id`;
-- reverse: create "evaluation_schemes" table
DROP TABLE `evaluation_schemes`;
-- reverse: create index "evaluationrun_tenant_id_scheme_code_period" to table: "evaluation_runs"
DROP INDEX `evaluationrun_tenant_id_scheme_code_period`;
-- reverse: create index "evaluationrun_tenant_id" to table: "evaluation_runs"
DROP INDEX `evaluationrun_tenant_id`;
-- reverse: create "evaluation_runs" table
DROP TABLE `evaluation_runs`;
-- reverse: create index "evaluationinput_tenant_id_period_source" to table: "evaluation_inputs"
DROP INDEX `evaluationinput_tenant_id_period_source`;
-- reverse: create index "evaluationinput_tenant_id" to table: "evaluation_inputs"
DROP INDEX `evaluationinput_tenant_id`;
-- reverse: create "evaluation_inputs" table
DROP TABLE `evaluation_inputs`;
-- reverse: create index "evaluationappeal_tenant_id_period_status" to table: "evaluation_appeals"
DROP INDEX `evaluationappeal_tenant_id_period_status`;
-- reverse: create index "evaluationappeal_tenant_id_period_case_number_object_code" to table: "evaluation_appeals"
DROP INDEX `evaluationappeal_tenant_id_period_case_number_object_code`;
-- reverse: create index "evaluationappeal_tenant_id" to table: "evaluation_appeals"
DROP INDEX `evaluationappeal_tenant_id`;
-- reverse: create "evaluation_appeals" table
DROP TABLE `evaluation_appeals`;
