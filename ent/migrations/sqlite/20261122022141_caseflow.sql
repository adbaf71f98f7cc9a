-- +goose Up
-- create "cases" table
CREATE TABLE `cases` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `number` text NOT NULL, `source` text NOT NULL, `kind` text NOT NULL, `class_code` text NOT NULL DEFAULT (''), `detail_code` text NOT NULL DEFAULT (''), `national_class_code` text NOT NULL DEFAULT (''), `filing_condition_code` text NOT NULL DEFAULT (''), `description` text NOT NULL DEFAULT (''), `lon` real NOT NULL DEFAULT (0), `lat` real NOT NULL DEFAULT (0), `address` text NOT NULL DEFAULT (''), `grid_code` text NOT NULL DEFAULT (''), `community_code` text NOT NULL DEFAULT (''), `street_code` text NOT NULL DEFAULT (''), `district_code` text NOT NULL DEFAULT (''), `area_class` text NOT NULL DEFAULT (''), `component_obj_id` text NOT NULL DEFAULT (''), `urgency` text NOT NULL DEFAULT ('normal'), `reporter_name` text NOT NULL DEFAULT (''), `reporter_phone` text NOT NULL DEFAULT (''), `reported_by` text NOT NULL DEFAULT (''), `primary_department_code` text NOT NULL DEFAULT (''), `co_department_codes` json NOT NULL, `state` text NOT NULL, `version` integer NOT NULL DEFAULT (1), `reported_at` datetime NULL, `verified_at` datetime NULL, `filed_at` datetime NULL, `dispatched_at` datetime NULL, `accepted_at` datetime NULL, `feedback_at` datetime NULL, `checked_at` datetime NULL, `closed_at` datetime NULL, `verify_deadline` datetime NULL, `dispatch_deadline` datetime NULL, `dispose_deadline` datetime NULL, `check_deadline` datetime NULL, `close_deadline` datetime NULL, `hung_at` datetime NULL, `hang_seconds` integer NOT NULL DEFAULT (0), `rework_count` integer NOT NULL DEFAULT (0), `return_count` integer NOT NULL DEFAULT (0), `extension_count` integer NOT NULL DEFAULT (0), `hang_count` integer NOT NULL DEFAULT (0), `reminder_count` integer NOT NULL DEFAULT (0), `overdue` bool NOT NULL DEFAULT (false), `supervised` bool NOT NULL DEFAULT (false), `self_handled` bool NOT NULL DEFAULT (false), `merged_into` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `cases_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
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
-- create "case_number_counters" table
CREATE TABLE `case_number_counters` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `day` text NOT NULL, `last` integer NOT NULL DEFAULT (0), `tenant_id` integer NOT NULL, CONSTRAINT `case_number_counters_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "casenumbercounter_tenant_id" to table: "case_number_counters"
CREATE INDEX `casenumbercounter_tenant_id` ON `case_number_counters` (`tenant_id`);
-- create index "casenumbercounter_tenant_id_day" to table: "case_number_counters"
CREATE UNIQUE INDEX `casenumbercounter_tenant_id_day` ON `case_number_counters` (`tenant_id`, `day`);
-- create "case_steps" table
CREATE TABLE `case_steps` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `seq` integer NOT NULL, `operation` text NOT NULL, `from_state` text NOT NULL DEFAULT (''), `to_state` text NOT NULL, `actor` text NOT NULL, `actor_name` text NOT NULL DEFAULT (''), `post` text NOT NULL DEFAULT (''), `opinion` text NOT NULL DEFAULT (''), `lon` real NULL, `lat` real NULL, `attachments` json NOT NULL, `detail` json NOT NULL, `at` datetime NOT NULL, `case_id` integer NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `case_steps_cases_steps` FOREIGN KEY (`case_id`) REFERENCES `cases` (`id`) ON DELETE NO ACTION, CONSTRAINT `case_steps_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "casestep_tenant_id" to table: "case_steps"
CREATE INDEX `casestep_tenant_id` ON `case_steps` (`tenant_id`);
-- create index "casestep_case_id_seq" to table: "case_steps"
CREATE UNIQUE INDEX `casestep_case_id_seq` ON `case_steps` (`case_id`, `seq`);
-- create index "casestep_tenant_id_at" to table: "case_steps"
CREATE INDEX `casestep_tenant_id_at` ON `case_steps` (`tenant_id`, `at`);
-- create "event_heads" table
CREATE TABLE `event_heads` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `stream` text NOT NULL, `last` integer NOT NULL DEFAULT (0), `tenant_id` integer NOT NULL, CONSTRAINT `event_heads_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "eventhead_tenant_id" to table: "event_heads"
CREATE INDEX `eventhead_tenant_id` ON `event_heads` (`tenant_id`);
-- create index "eventhead_tenant_id_stream" to table: "event_heads"
CREATE UNIQUE INDEX `eventhead_tenant_id_stream` ON `event_heads` (`tenant_id`, `stream`);
-- create "tenant_events" table
CREATE TABLE `tenant_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `seq` integer NOT NULL, `event_id` text NOT NULL, `type` text NOT NULL, `subject` text NOT NULL DEFAULT (''), `time` datetime NOT NULL, `data` blob NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `tenant_events_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "tenant_events_event_id_key" to table: "tenant_events"
CREATE UNIQUE INDEX `tenant_events_event_id_key` ON `tenant_events` (`event_id`);
-- create index "tenantevent_tenant_id" to table: "tenant_events"
CREATE INDEX `tenantevent_tenant_id` ON `tenant_events` (`tenant_id`);
-- create index "tenantevent_tenant_id_seq" to table: "tenant_events"
CREATE UNIQUE INDEX `tenantevent_tenant_id_seq` ON `tenant_events` (`tenant_id`, `seq`);
-- create index "tenantevent_tenant_id_subject" to table: "tenant_events"
CREATE INDEX `tenantevent_tenant_id_subject` ON `tenant_events` (`tenant_id`, `subject`);

-- +goose Down
-- reverse: create index "tenantevent_tenant_id_subject" to table: "tenant_events"
DROP INDEX `tenantevent_tenant_id_subject`;
-- reverse: create index "tenantevent_tenant_id_seq" to table: "tenant_events"
DROP INDEX `tenantevent_tenant_id_seq`;
-- reverse: create index "tenantevent_tenant_id" to table: "tenant_events"
DROP INDEX `tenantevent_tenant_id`;
-- reverse: create index "tenant_events_event_id_key" to table: "tenant_events"
DROP INDEX `tenant_events_event_id_key`;
-- reverse: create "tenant_events" table
DROP TABLE `tenant_events`;
-- reverse: create index "eventhead_tenant_id_stream" to table: "event_heads"
DROP INDEX `eventhead_tenant_id_stream`;
-- reverse: create index "eventhead_tenant_id" to table: "event_heads"
DROP INDEX `eventhead_tenant_id`;
-- reverse: create "event_heads" table
DROP TABLE `event_heads`;
-- reverse: create index "casestep_tenant_id_at" to table: "case_steps"
DROP INDEX `casestep_tenant_id_at`;
-- reverse: create index "casestep_case_id_seq" to table: "case_steps"
DROP INDEX `casestep_case_id_seq`;
-- reverse: create index "casestep_tenant_id" to table: "case_steps"
DROP INDEX `casestep_tenant_id`;
-- reverse: create "case_steps" table
DROP TABLE `case_steps`;
-- reverse: create index "casenumbercounter_tenant_id_day" to table: "case_number_counters"
DROP INDEX `casenumbercounter_tenant_id_day`;
-- reverse: create index "casenumbercounter_tenant_id" to table: "case_number_counters"
DROP INDEX `casenumbercounter_tenant_id`;
-- reverse: create "case_number_counters" table
DROP TABLE `case_number_counters`;
-- reverse: create index "casefile_tenant_id_merged_into" to table: "cases"
DROP INDEX `casefile_tenant_id_merged_into`;
-- reverse: create index "casefile_tenant_id_grid_code" to table: "cases"
DROP INDEX `casefile_tenant_id_grid_code`;
-- reverse: create index "casefile_tenant_id_primary_department_code_state" to table: "cases"
DROP INDEX `casefile_tenant_id_primary_department_code_state`;
-- reverse: create index "casefile_tenant_id_state" to table: "cases"
DROP INDEX `casefile_tenant_id_state`;
-- reverse: create index "casefile_tenant_id_number" to table: "cases"
DROP INDEX `casefile_tenant_id_number`;
-- reverse: create index "casefile_tenant_id" to table: "cases"
DROP INDEX `casefile_tenant_id`;
-- reverse: create "cases" table
DROP TABLE `cases`;
