-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_cases" table
CREATE TABLE `new_cases` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` text NOT NULL, `source` text NOT NULL, `kind` text NOT NULL, `class_code` text NOT NULL DEFAULT (''), `detail_code` text NOT NULL DEFAULT (''), `national_class_code` text NOT NULL DEFAULT (''), `filing_condition_code` text NOT NULL DEFAULT (''), `description` text NOT NULL DEFAULT (''), `lon` real NOT NULL DEFAULT (0), `lat` real NOT NULL DEFAULT (0), `address` text NOT NULL DEFAULT (''), `grid_code` text NOT NULL DEFAULT (''), `community_code` text NOT NULL DEFAULT (''), `street_code` text NOT NULL DEFAULT (''), `district_code` text NOT NULL DEFAULT (''), `area_class` text NOT NULL DEFAULT (''), `component_obj_id` text NOT NULL DEFAULT (''), `urgency` text NOT NULL DEFAULT ('normal'), `reporter_name` text NOT NULL DEFAULT (''), `reporter_phone` text NOT NULL DEFAULT (''), `reported_by` text NOT NULL DEFAULT (''), `primary_department_code` text NOT NULL DEFAULT (''), `co_department_codes` json NOT NULL, `state` text NOT NULL, `version` integer NOT NULL DEFAULT (1), `reported_at` datetime NULL, `verified_at` datetime NULL, `filed_at` datetime NULL, `dispatched_at` datetime NULL, `accepted_at` datetime NULL, `feedback_at` datetime NULL, `checked_at` datetime NULL, `closed_at` datetime NULL, `verify_deadline` datetime NULL, `dispatch_deadline` datetime NULL, `dispose_deadline` datetime NULL, `check_deadline` datetime NULL, `close_deadline` datetime NULL, `hung_at` datetime NULL, `hang_seconds` integer NOT NULL DEFAULT (0), `rework_count` integer NOT NULL DEFAULT (0), `return_count` integer NOT NULL DEFAULT (0), `extension_count` integer NOT NULL DEFAULT (0), `hang_count` integer NOT NULL DEFAULT (0), `reminder_count` integer NOT NULL DEFAULT (0), `overdue` bool NOT NULL DEFAULT (false), `supervised` bool NOT NULL DEFAULT (false), `self_handled` bool NOT NULL DEFAULT (false), `merged_into` text NOT NULL DEFAULT (''), `dispatch_rule_code` text NOT NULL DEFAULT (''), `auto_dispatched` bool NOT NULL DEFAULT (false), `overdue_at` datetime NULL, `pre_reminded_for` datetime NULL, `escalation_level` integer NOT NULL DEFAULT (0), `supervise_deadline` datetime NULL, `tenant_id` integer NOT NULL, CONSTRAINT `cases_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- copy rows from old table "cases" to new temporary table "new_cases"
INSERT INTO `new_cases` (`id`, `created_at`, `updated_at`, `number`, `source`, `kind`, `class_code`, `detail_code`, `national_class_code`, `filing_condition_code`, `description`, `lon`, `lat`, `address`, `grid_code`, `community_code`, `street_code`, `district_code`, `area_class`, `component_obj_id`, `urgency`, `reporter_name`, `reporter_phone`, `reported_by`, `primary_department_code`, `co_department_codes`, `state`, `version`, `reported_at`, `verified_at`, `filed_at`, `dispatched_at`, `accepted_at`, `feedback_at`, `checked_at`, `closed_at`, `verify_deadline`, `dispatch_deadline`, `dispose_deadline`, `check_deadline`, `close_deadline`, `hung_at`, `hang_seconds`, `rework_count`, `return_count`, `extension_count`, `hang_count`, `reminder_count`, `overdue`, `supervised`, `self_handled`, `merged_into`, `tenant_id`) SELECT `id`, `created_at`, `updated_at`, `number`, `source`, `kind`, `class_code`, `detail_code`, `national_class_code`, `filing_condition_code`, `description`, `lon`, `lat`, `address`, `grid_code`, `community_code`, `street_code`, `district_code`, `area_class`, `component_obj_id`, `urgency`, `reporter_name`, `reporter_phone`, `reported_by`, `primary_department_code`, `co_department_codes`, `state`, `version`, `reported_at`, `verified_at`, `filed_at`, `dispatched_at`, `accepted_at`, `feedback_at`, `checked_at`, `closed_at`, `verify_deadline`, `dispatch_deadline`, `dispose_deadline`, `check_deadline`, `close_deadline`, `hung_at`, `hang_seconds`, `rework_count`, `return_count`, `extension_count`, `hang_count`, `reminder_count`, `overdue`, `supervised`, `self_handled`, `merged_into`, `tenant_id` FROM `cases`;
-- drop "cases" table after copying rows
DROP TABLE `cases`;
-- rename temporary table "new_cases" to "cases"
ALTER TABLE `new_cases` RENAME TO `cases`;
-- create index "casefile_tenant_id" to table: "cases"
CREATE INDEX `casefile_tenant_id` ON `cases` (`tenant_id`);
-- create index "casefile_tenant_id_number" to table: "cases"
CREATE UNIQUE INDEX `casefile_tenant_id_number` ON `cases` (`tenant_id`, `number`);
-- create index "casefile_tenant_id_state" to table: "cases"
CREATE INDEX `casefile_tenant_id_state` ON `cases` (`tenant_id`, `state`);
-- create index "casefile_tenant_id_primary_department_code_state" to table: "cases"
CREATE INDEX `casefile_tenant_id_primary_department_code_state` ON `cases` (`tenant_id`, `primary_department_code`, `state`);
-- create index "casefile_tenant_id_grid_code" to table: "cases"
CREATE INDEX `casefile_tenant_id_grid_code` ON `cases` (`tenant_id`, `grid_code`);
-- create index "casefile_tenant_id_merged_into" to table: "cases"
CREATE INDEX `casefile_tenant_id_merged_into` ON `cases` (`tenant_id`, `merged_into`);
-- create index "casefile_tenant_id_class_code_reported_at" to table: "cases"
CREATE INDEX `casefile_tenant_id_class_code_reported_at` ON `cases` (`tenant_id`, `class_code`, `reported_at`);
-- create index "casefile_tenant_id_reported_at" to table: "cases"
CREATE INDEX `casefile_tenant_id_reported_at` ON `cases` (`tenant_id`, `reported_at`);
-- create "dispatch_class_switches" table
CREATE TABLE `dispatch_class_switches` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `class_code` text NOT NULL, `auto` bool NOT NULL DEFAULT (false), `updated_by` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `dispatch_class_switches_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "dispatchclassswitch_tenant_id" to table: "dispatch_class_switches"
CREATE INDEX `dispatchclassswitch_tenant_id` ON `dispatch_class_switches` (`tenant_id`);
-- create index "dispatchclassswitch_tenant_id_class_code" to table: "dispatch_class_switches"
CREATE UNIQUE INDEX `dispatchclassswitch_tenant_id_class_code` ON `dispatch_class_switches` (`tenant_id`, `class_code`);
-- create "dispatch_rules" table
CREATE TABLE `dispatch_rules` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `code` text NOT NULL, `name` text NOT NULL DEFAULT (''), `kind` text NOT NULL DEFAULT ('matrix'), `class_code` text NOT NULL DEFAULT (''), `filing_condition_code` text NOT NULL DEFAULT (''), `region_level` text NOT NULL DEFAULT ('any'), `region_code` text NOT NULL DEFAULT (''), `area_class` text NOT NULL DEFAULT (''), `time_from` text NOT NULL DEFAULT (''), `time_to` text NOT NULL DEFAULT (''), `department_code` text NOT NULL DEFAULT (''), `co_department_codes` json NULL, `rotation_departments` json NULL, `rotation_period` text NOT NULL DEFAULT ('none'), `rotation_anchor` datetime NULL, `priority` integer NOT NULL DEFAULT (0), `enabled` bool NOT NULL DEFAULT (true), `dispatch_count` integer NOT NULL DEFAULT (0), `return_count` integer NOT NULL DEFAULT (0), `note` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `dispatch_rules_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "dispatchrule_tenant_id" to table: "dispatch_rules"
CREATE INDEX `dispatchrule_tenant_id` ON `dispatch_rules` (`tenant_id`);
-- create index "dispatchrule_tenant_id_code" to table: "dispatch_rules"
CREATE UNIQUE INDEX `dispatchrule_tenant_id_code` ON `dispatch_rules` (`tenant_id`, `code`);
-- create index "dispatchrule_tenant_id_class_code" to table: "dispatch_rules"
CREATE INDEX `dispatchrule_tenant_id_class_code` ON `dispatch_rules` (`tenant_id`, `class_code`);
-- create "escalation_levels" table
CREATE TABLE `escalation_levels` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scope_kind` text NOT NULL DEFAULT ('tenant'), `scope_code` text NOT NULL DEFAULT (''), `level` integer NOT NULL, `name_zh` text NOT NULL, `after_minutes` integer NOT NULL, `notify_department_code` text NOT NULL DEFAULT (''), `notify_logins` json NULL, `raise_supervision` bool NOT NULL DEFAULT (false), `tenant_id` integer NOT NULL, CONSTRAINT `escalation_levels_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "escalationlevel_tenant_id" to table: "escalation_levels"
CREATE INDEX `escalationlevel_tenant_id` ON `escalation_levels` (`tenant_id`);
-- create index "escalationlevel_tenant_id_scope_kind_scope_code_level" to table: "escalation_levels"
CREATE UNIQUE INDEX `escalationlevel_tenant_id_scope_kind_scope_code_level` ON `escalation_levels` (`tenant_id`, `scope_kind`, `scope_code`, `level`);
-- create "leases" table
CREATE TABLE `leases` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `holder` text NOT NULL, `expires_at` datetime NOT NULL, `fencing` integer NOT NULL DEFAULT (0));
-- create index "leases_name_key" to table: "leases"
CREATE UNIQUE INDEX `leases_name_key` ON `leases` (`name`);
-- create "notifications" table
CREATE TABLE `notifications` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `recipient_kind` text NOT NULL, `recipient` text NOT NULL, `case_number` text NOT NULL DEFAULT (''), `kind` text NOT NULL, `level` integer NOT NULL DEFAULT (0), `message_zh` text NOT NULL DEFAULT (''), `message_en` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `read_at` datetime NULL, `tenant_id` integer NOT NULL, CONSTRAINT `notifications_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "notification_tenant_id" to table: "notifications"
CREATE INDEX `notification_tenant_id` ON `notifications` (`tenant_id`);
-- create index "notification_tenant_id_recipient_kind_recipient_created_at" to table: "notifications"
CREATE INDEX `notification_tenant_id_recipient_kind_recipient_created_at` ON `notifications` (`tenant_id`, `recipient_kind`, `recipient`, `created_at`);
-- create index "notification_tenant_id_case_number" to table: "notifications"
CREATE INDEX `notification_tenant_id_case_number` ON `notifications` (`tenant_id`, `case_number`);
-- create "supervision_orders" table
CREATE TABLE `supervision_orders` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `case_id` integer NOT NULL, `case_number` text NOT NULL, `origin` text NOT NULL, `raised_by` text NOT NULL, `raised_by_name` text NOT NULL DEFAULT (''), `reason` text NOT NULL DEFAULT (''), `deadline` datetime NULL, `require_feedback` bool NOT NULL DEFAULT (false), `department_code` text NOT NULL DEFAULT (''), `state` text NOT NULL DEFAULT ('open'), `feedback` text NOT NULL DEFAULT (''), `feedback_by` text NOT NULL DEFAULT (''), `feedback_at` datetime NULL, `tenant_id` integer NOT NULL, CONSTRAINT `supervision_orders_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "supervisionorder_tenant_id" to table: "supervision_orders"
CREATE INDEX `supervisionorder_tenant_id` ON `supervision_orders` (`tenant_id`);
-- create index "supervisionorder_tenant_id_case_id" to table: "supervision_orders"
CREATE INDEX `supervisionorder_tenant_id_case_id` ON `supervision_orders` (`tenant_id`, `case_id`);
-- create index "supervisionorder_tenant_id_state" to table: "supervision_orders"
CREATE INDEX `supervisionorder_tenant_id_state` ON `supervision_orders` (`tenant_id`, `state`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "supervisionorder_tenant_id_state" to table: "supervision_orders"
DROP INDEX `supervisionorder_tenant_id_state`;
-- reverse: create index "supervisionorder_tenant_id_case_id" to table: "supervision_orders"
DROP INDEX `supervisionorder_tenant_id_case_id`;
-- reverse: create index "supervisionorder_tenant_id" to table: "supervision_orders"
DROP INDEX `supervisionorder_tenant_id`;
-- reverse: create "supervision_orders" table
DROP TABLE `supervision_orders`;
-- reverse: create index "notification_tenant_id_case_number" to table: "notifications"
DROP INDEX `notification_tenant_id_case_number`;
-- reverse: create index "notification_tenant_id_recipient_kind_recipient_created_at" to table: "notifications"
DROP INDEX `notification_tenant_id_recipient_kind_recipient_created_at`;
-- reverse: create index "notification_tenant_id" to table: "notifications"
DROP INDEX `notification_tenant_id`;
-- reverse: create "notifications" table
DROP TABLE `notifications`;
-- reverse: create index "leases_name_key" to table: "leases"
DROP INDEX `leases_name_key`;
-- reverse: create "leases" table
DROP TABLE `leases`;
-- reverse: create index "escalationlevel_tenant_id_scope_kind_scope_code_level" to table: "escalation_levels"
DROP INDEX `escalationlevel_tenant_id_scope_kind_scope_code_level`;
-- reverse: create index "escalationlevel_tenant_id" to table: "escalation_levels"
DROP INDEX `escalationlevel_tenant_id`;
-- reverse: create "escalation_levels" table
DROP TABLE `escalation_levels`;
-- reverse: create index "dispatchrule_tenant_id_class_code" to table: "dispatch_rules"
DROP INDEX `dispatchrule_tenant_id_class_code`;
-- reverse: create index "dispatchrule_tenant_id_code" to table: "dispatch_rules"
DROP INDEX `dispatchrule_tenant_id_code`;
-- reverse: create index "dispatchrule_tenant_id" to table: "dispatch_rules"
DROP INDEX `dispatchrule_tenant_id`;
-- reverse: create "dispatch_rules" table
DROP TABLE `dispatch_rules`;
-- reverse: create index "dispatchclassswitch_tenant_id_class_code" to table: "dispatch_class_switches"
DROP INDEX `dispatchclassswitch_tenant_id_class_code`;
-- reverse: create index "dispatchclassswitch_tenant_id" to table: "dispatch_class_switches"
DROP INDEX `dispatchclassswitch_tenant_id`;
-- reverse: create "dispatch_class_switches" table
DROP TABLE `dispatch_class_switches`;
-- reverse: create index "casefile_tenant_id_reported_at" to table: "cases"
DROP INDEX `casefile_tenant_id_reported_at`;
-- reverse: create index "casefile_tenant_id_class_code_reported_at" to table: "cases"
DROP INDEX `casefile_tenant_id_class_code_reported_at`;
-- reverse: the rebuild of "cases" (hand-written: SQLite drops the added
-- columns in place; the old rebuild's indexes stay as they were)
ALTER TABLE `cases` DROP COLUMN `supervise_deadline`;
ALTER TABLE `cases` DROP COLUMN `escalation_level`;
ALTER TABLE `cases` DROP COLUMN `pre_reminded_for`;
ALTER TABLE `cases` DROP COLUMN `overdue_at`;
ALTER TABLE `cases` DROP COLUMN `auto_dispatched`;
ALTER TABLE `cases` DROP COLUMN `dispatch_rule_code`;
