-- +goose Up
-- create "connectors" table
CREATE TABLE `connectors` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `direction` text NOT NULL, `brokers` json NULL, `topic` text NOT NULL DEFAULT (''), `source_codes` json NULL, `group_id` text NOT NULL DEFAULT (''), `tls` bool NOT NULL DEFAULT (false), `sasl_mechanism` text NOT NULL DEFAULT (''), `sasl_secret_ref` text NOT NULL DEFAULT (''), `event_types` json NULL, `encoding` text NOT NULL DEFAULT ('proto'), `enabled` bool NOT NULL DEFAULT (true), `cursor` integer NOT NULL DEFAULT (0), `lease_holder` text NOT NULL DEFAULT (''), `lease_expires_at` datetime NULL, `last_success_at` datetime NULL, `last_event_at` datetime NULL, `last_error` text NOT NULL DEFAULT (''), `failures` integer NOT NULL DEFAULT (0), `tenant_id` integer NOT NULL, CONSTRAINT `connectors_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "connector_tenant_id" to table: "connectors"
CREATE INDEX `connector_tenant_id` ON `connectors` (`tenant_id`);
-- create index "connector_tenant_id_name" to table: "connectors"
CREATE UNIQUE INDEX `connector_tenant_id_name` ON `connectors` (`tenant_id`, `name`);
-- create "dead_letters" table
CREATE TABLE `dead_letters` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `connector` text NOT NULL, `direction` text NOT NULL, `event_id` text NOT NULL DEFAULT (''), `seq` integer NOT NULL DEFAULT (0), `event_type` text NOT NULL DEFAULT (''), `source` text NOT NULL DEFAULT (''), `reason` text NOT NULL, `detail` text NOT NULL DEFAULT (''), `topic` text NOT NULL DEFAULT (''), `partition` integer NOT NULL DEFAULT (0), `offset` integer NOT NULL DEFAULT (0), `payload` blob NULL, `headers` json NULL, `created_at` datetime NOT NULL, `replayed_at` datetime NULL, `replay_count` integer NOT NULL DEFAULT (0), `tenant_id` integer NOT NULL, CONSTRAINT `dead_letters_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "deadletter_tenant_id" to table: "dead_letters"
CREATE INDEX `deadletter_tenant_id` ON `dead_letters` (`tenant_id`);
-- create index "deadletter_tenant_id_connector_created_at" to table: "dead_letters"
CREATE INDEX `deadletter_tenant_id_connector_created_at` ON `dead_letters` (`tenant_id`, `connector`, `created_at`);
-- create index "deadletter_tenant_id_reason" to table: "dead_letters"
CREATE INDEX `deadletter_tenant_id_reason` ON `dead_letters` (`tenant_id`, `reason`);
-- create "federated_cases" table
CREATE TABLE `federated_cases` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `source_code` text NOT NULL, `number` text NOT NULL, `state` text NOT NULL, `source` text NOT NULL DEFAULT (''), `kind` text NOT NULL DEFAULT (''), `class_code` text NOT NULL DEFAULT (''), `national_class_code` text NOT NULL DEFAULT (''), `description` text NOT NULL DEFAULT (''), `lon` real NOT NULL DEFAULT (0), `lat` real NOT NULL DEFAULT (0), `address` text NOT NULL DEFAULT (''), `grid_code` text NOT NULL DEFAULT (''), `street_code` text NOT NULL DEFAULT (''), `district_code` text NOT NULL DEFAULT (''), `area_class` text NOT NULL DEFAULT (''), `urgency` text NOT NULL DEFAULT (''), `primary_department_code` text NOT NULL DEFAULT (''), `overdue` bool NOT NULL DEFAULT (false), `supervised` bool NOT NULL DEFAULT (false), `reported_at` datetime NULL, `dispose_deadline` datetime NULL, `closed_at` datetime NULL, `version` integer NOT NULL DEFAULT (0), `last_seq` integer NOT NULL DEFAULT (0), `last_event_at` datetime NOT NULL, `data` blob NULL, `tenant_id` integer NOT NULL, CONSTRAINT `federated_cases_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "federatedcase_tenant_id" to table: "federated_cases"
CREATE INDEX `federatedcase_tenant_id` ON `federated_cases` (`tenant_id`);
-- create index "federatedcase_tenant_id_source_code_number" to table: "federated_cases"
CREATE UNIQUE INDEX `federatedcase_tenant_id_source_code_number` ON `federated_cases` (`tenant_id`, `source_code`, `number`);
-- create index "federatedcase_tenant_id_state" to table: "federated_cases"
CREATE INDEX `federatedcase_tenant_id_state` ON `federated_cases` (`tenant_id`, `state`);
-- create index "federatedcase_tenant_id_last_event_at" to table: "federated_cases"
CREATE INDEX `federatedcase_tenant_id_last_event_at` ON `federated_cases` (`tenant_id`, `last_event_at`);
-- create "federated_events" table
CREATE TABLE `federated_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `event_id` text NOT NULL, `source_code` text NOT NULL, `source_seq` integer NOT NULL DEFAULT (0), `type` text NOT NULL, `subject` text NOT NULL DEFAULT (''), `time` datetime NOT NULL, `data` blob NOT NULL, `received_at` datetime NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `federated_events_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "federatedevent_tenant_id" to table: "federated_events"
CREATE INDEX `federatedevent_tenant_id` ON `federated_events` (`tenant_id`);
-- create index "federatedevent_tenant_id_event_id" to table: "federated_events"
CREATE UNIQUE INDEX `federatedevent_tenant_id_event_id` ON `federated_events` (`tenant_id`, `event_id`);
-- create index "federatedevent_tenant_id_source_code_subject" to table: "federated_events"
CREATE INDEX `federatedevent_tenant_id_source_code_subject` ON `federated_events` (`tenant_id`, `source_code`, `subject`);
-- create "federated_indicators" table
CREATE TABLE `federated_indicators` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `source_code` text NOT NULL, `indicator` text NOT NULL, `period` text NOT NULL DEFAULT (''), `value` real NOT NULL DEFAULT (0), `at` datetime NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `federated_indicators_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "federatedindicator_tenant_id" to table: "federated_indicators"
CREATE INDEX `federatedindicator_tenant_id` ON `federated_indicators` (`tenant_id`);
-- create index "federatedindicator_tenant_id_source_code_indicator_period" to table: "federated_indicators"
CREATE UNIQUE INDEX `federatedindicator_tenant_id_source_code_indicator_period` ON `federated_indicators` (`tenant_id`, `source_code`, `indicator`, `period`);
-- create "federation_commands" table
CREATE TABLE `federation_commands` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `command_id` text NOT NULL, `target_code` text NOT NULL, `kind` text NOT NULL, `case_number` text NOT NULL DEFAULT (''), `reason` text NOT NULL DEFAULT (''), `deadline` datetime NULL, `status` text NOT NULL DEFAULT ('sent'), `response` text NOT NULL DEFAULT (''), `received_at` datetime NULL, `answered_at` datetime NULL, `created_by` text NOT NULL DEFAULT (''), `payload` blob NULL, `tenant_id` integer NOT NULL, CONSTRAINT `federation_commands_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "federationcommand_tenant_id" to table: "federation_commands"
CREATE INDEX `federationcommand_tenant_id` ON `federation_commands` (`tenant_id`);
-- create index "federationcommand_tenant_id_command_id" to table: "federation_commands"
CREATE UNIQUE INDEX `federationcommand_tenant_id_command_id` ON `federation_commands` (`tenant_id`, `command_id`);
-- create index "federationcommand_tenant_id_target_code_status" to table: "federation_commands"
CREATE INDEX `federationcommand_tenant_id_target_code_status` ON `federation_commands` (`tenant_id`, `target_code`, `status`);
-- create "peer_keys" table
CREATE TABLE `peer_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `tenant_code` text NOT NULL, `version` integer NOT NULL, `public_key` blob NOT NULL, `created_at` datetime NOT NULL, `revoked_at` datetime NULL);
-- create index "peerkey_tenant_code_version" to table: "peer_keys"
CREATE UNIQUE INDEX `peerkey_tenant_code_version` ON `peer_keys` (`tenant_code`, `version`);

-- +goose Down
-- reverse: create index "peerkey_tenant_code_version" to table: "peer_keys"
DROP INDEX `peerkey_tenant_code_version`;
-- reverse: create "peer_keys" table
DROP TABLE `peer_keys`;
-- reverse: create index "federationcommand_tenant_id_target_code_status" to table: "federation_commands"
DROP INDEX `federationcommand_tenant_id_target_code_status`;
-- reverse: create index "federationcommand_tenant_id_command_id" to table: "federation_commands"
DROP INDEX `federationcommand_tenant_id_command_id`;
-- reverse: create index "federationcommand_tenant_id" to table: "federation_commands"
DROP INDEX `federationcommand_tenant_id`;
-- reverse: create "federation_commands" table
DROP TABLE `federation_commands`;
-- reverse: create index "federatedindicator_tenant_id_source_code_indicator_period" to table: "federated_indicators"
DROP INDEX `federatedindicator_tenant_id_source_code_indicator_period`;
-- reverse: create index "federatedindicator_tenant_id" to table: "federated_indicators"
DROP INDEX `federatedindicator_tenant_id`;
-- reverse: create "federated_indicators" table
DROP TABLE `federated_indicators`;
-- reverse: create index "federatedevent_tenant_id_source_code_subject" to table: "federated_events"
DROP INDEX `federatedevent_tenant_id_source_code_subject`;
-- reverse: create index "federatedevent_tenant_id_event_id" to table: "federated_events"
DROP INDEX `federatedevent_tenant_id_event_id`;
-- reverse: create index "federatedevent_tenant_id" to table: "federated_events"
DROP INDEX `federatedevent_tenant_id`;
-- reverse: create "federated_events" table
DROP TABLE `federated_events`;
-- reverse: create index "federatedcase_tenant_id_last_event_at" to table: "federated_cases"
DROP INDEX `federatedcase_tenant_id_last_event_at`;
-- reverse: create index "federatedcase_tenant_id_state" to table: "federated_cases"
DROP INDEX `federatedcase_tenant_id_state`;
-- reverse: create index "federatedcase_tenant_id_source_code_number" to table: "federated_cases"
DROP INDEX `federatedcase_tenant_id_source_code_number`;
-- reverse: create index "federatedcase_tenant_id" to table: "federated_cases"
DROP INDEX `federatedcase_tenant_id`;
-- reverse: create "federated_cases" table
DROP TABLE `federated_cases`;
-- reverse: create index "deadletter_tenant_id_reason" to table: "dead_letters"
DROP INDEX `deadletter_tenant_id_reason`;
-- reverse: create index "deadletter_tenant_id_connector_created_at" to table: "dead_letters"
DROP INDEX `deadletter_tenant_id_connector_created_at`;
-- reverse: create index "deadletter_tenant_id" to table: "dead_letters"
DROP INDEX `deadletter_tenant_id`;
-- reverse: create "dead_letters" table
DROP TABLE `dead_letters`;
-- reverse: create index "connector_tenant_id_name" to table: "connectors"
DROP INDEX `connector_tenant_id_name`;
-- reverse: create index "connector_tenant_id" to table: "connectors"
DROP INDEX `connector_tenant_id`;
-- reverse: create "connectors" table
DROP TABLE `connectors`;
