-- +goose Up
-- create "api_keys" table
CREATE TABLE `api_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `key_id` text NOT NULL, `secret_hash` text NOT NULL, `roles` json NULL, `expires_at` datetime NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL, `created_by` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, CONSTRAINT `api_keys_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- create index "api_keys_key_id_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_key_id_key` ON `api_keys` (`key_id`);
-- create index "apikey_tenant_id" to table: "api_keys"
CREATE INDEX `apikey_tenant_id` ON `api_keys` (`tenant_id`);
-- create index "apikey_tenant_id_name" to table: "api_keys"
CREATE UNIQUE INDEX `apikey_tenant_id_name` ON `api_keys` (`tenant_id`, `name`);
-- create "audit_entries" table
CREATE TABLE `audit_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `chain` text NOT NULL, `seq` integer NOT NULL, `tenant_id` integer NULL, `at` datetime NOT NULL, `actor` text NOT NULL, `actor_name` text NOT NULL DEFAULT (''), `role` text NOT NULL DEFAULT (''), `operation` text NOT NULL, `target` text NOT NULL DEFAULT (''), `request_id` text NOT NULL DEFAULT (''), `source_addr` text NOT NULL DEFAULT (''), `outcome` text NOT NULL, `detail` text NOT NULL DEFAULT (''), `prev_hash` text NOT NULL DEFAULT (''), `hash` text NOT NULL);
-- create index "auditentry_chain_seq" to table: "audit_entries"
CREATE UNIQUE INDEX `auditentry_chain_seq` ON `audit_entries` (`chain`, `seq`);
-- create index "auditentry_tenant_id_at" to table: "audit_entries"
CREATE INDEX `auditentry_tenant_id_at` ON `audit_entries` (`tenant_id`, `at`);
-- create index "auditentry_tenant_id_actor" to table: "audit_entries"
CREATE INDEX `auditentry_tenant_id_actor` ON `audit_entries` (`tenant_id`, `actor`);
-- create index "auditentry_tenant_id_operation" to table: "audit_entries"
CREATE INDEX `auditentry_tenant_id_operation` ON `audit_entries` (`tenant_id`, `operation`);
-- create "audit_heads" table
CREATE TABLE `audit_heads` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `chain` text NOT NULL, `seq` integer NOT NULL DEFAULT (0), `hash` text NOT NULL DEFAULT (''));
-- create index "audit_heads_chain_key" to table: "audit_heads"
CREATE UNIQUE INDEX `audit_heads_chain_key` ON `audit_heads` (`chain`);
-- create "authz_revisions" table
CREATE TABLE `authz_revisions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `revision` integer NOT NULL DEFAULT (0), `updated_at` datetime NOT NULL);
-- create index "authz_revisions_name_key" to table: "authz_revisions"
CREATE UNIQUE INDEX `authz_revisions_name_key` ON `authz_revisions` (`name`);
-- create "authz_rules" table
CREATE TABLE `authz_rules` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `ptype` text NOT NULL, `v0` text NOT NULL DEFAULT (''), `v1` text NOT NULL DEFAULT (''), `v2` text NOT NULL DEFAULT (''), `v3` text NOT NULL DEFAULT (''), `v4` text NOT NULL DEFAULT (''), `v5` text NOT NULL DEFAULT (''));
-- create index "authzrule_ptype_v0_v1_v2_v3_v4_v5" to table: "authz_rules"
CREATE UNIQUE INDEX `authzrule_ptype_v0_v1_v2_v3_v4_v5` ON `authz_rules` (`ptype`, `v0`, `v1`, `v2`, `v3`, `v4`, `v5`);
-- create index "authzrule_ptype_v2" to table: "authz_rules"
CREATE INDEX `authzrule_ptype_v2` ON `authz_rules` (`ptype`, `v2`);
-- create "login_throttles" table
CREATE TABLE `login_throttles` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `failures` integer NOT NULL DEFAULT (0), `window_start` datetime NOT NULL, `locked_until` datetime NULL);
-- create index "login_throttles_key_key" to table: "login_throttles"
CREATE UNIQUE INDEX `login_throttles_key_key` ON `login_throttles` (`key`);
-- create "sessions" table
CREATE TABLE `sessions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `family` text NOT NULL, `token_hash` text NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `revoke_reason` text NOT NULL DEFAULT (''), `client_addr` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `tenant_id` integer NOT NULL, `user_id` integer NOT NULL, CONSTRAINT `sessions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- create index "session_tenant_id" to table: "sessions"
CREATE INDEX `session_tenant_id` ON `sessions` (`tenant_id`);
-- create index "session_tenant_id_family" to table: "sessions"
CREATE INDEX `session_tenant_id_family` ON `sessions` (`tenant_id`, `family`);
-- create index "session_user_id" to table: "sessions"
CREATE INDEX `session_user_id` ON `sessions` (`user_id`);
-- create "users" table
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `login` text NOT NULL, `display_name` text NOT NULL, `phone` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('active'), `password_hash` text NOT NULL, `must_change_password` bool NOT NULL DEFAULT (false), `password_changed_at` datetime NULL, `failed_logins` integer NOT NULL DEFAULT (0), `locked_until` datetime NULL, `last_login_at` datetime NULL, `tenant_id` integer NOT NULL, `department_id` integer NULL, CONSTRAINT `users_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `users_departments_department` FOREIGN KEY (`department_id`) REFERENCES `departments` (`id`) ON DELETE SET NULL);
-- create index "user_tenant_id" to table: "users"
CREATE INDEX `user_tenant_id` ON `users` (`tenant_id`);
-- create index "user_tenant_id_login" to table: "users"
CREATE UNIQUE INDEX `user_tenant_id_login` ON `users` (`tenant_id`, `login`);

-- +goose Down
-- reverse: create index "user_tenant_id_login" to table: "users"
DROP INDEX `user_tenant_id_login`;
-- reverse: create index "user_tenant_id" to table: "users"
DROP INDEX `user_tenant_id`;
-- reverse: create "users" table
DROP TABLE `users`;
-- reverse: create index "session_user_id" to table: "sessions"
DROP INDEX `session_user_id`;
-- reverse: create index "session_tenant_id_family" to table: "sessions"
DROP INDEX `session_tenant_id_family`;
-- reverse: create index "session_tenant_id" to table: "sessions"
DROP INDEX `session_tenant_id`;
-- reverse: create index "sessions_token_hash_key" to table: "sessions"
DROP INDEX `sessions_token_hash_key`;
-- reverse: create "sessions" table
DROP TABLE `sessions`;
-- reverse: create index "login_throttles_key_key" to table: "login_throttles"
DROP INDEX `login_throttles_key_key`;
-- reverse: create "login_throttles" table
DROP TABLE `login_throttles`;
-- reverse: create index "authzrule_ptype_v2" to table: "authz_rules"
DROP INDEX `authzrule_ptype_v2`;
-- reverse: create index "authzrule_ptype_v0_v1_v2_v3_v4_v5" to table: "authz_rules"
DROP INDEX `authzrule_ptype_v0_v1_v2_v3_v4_v5`;
-- reverse: create "authz_rules" table
DROP TABLE `authz_rules`;
-- reverse: create index "authz_revisions_name_key" to table: "authz_revisions"
DROP INDEX `authz_revisions_name_key`;
-- reverse: create "authz_revisions" table
DROP TABLE `authz_revisions`;
-- reverse: create index "audit_heads_chain_key" to table: "audit_heads"
DROP INDEX `audit_heads_chain_key`;
-- reverse: create "audit_heads" table
DROP TABLE `audit_heads`;
-- reverse: create index "auditentry_tenant_id_operation" to table: "audit_entries"
DROP INDEX `auditentry_tenant_id_operation`;
-- reverse: create index "auditentry_tenant_id_actor" to table: "audit_entries"
DROP INDEX `auditentry_tenant_id_actor`;
-- reverse: create index "auditentry_tenant_id_at" to table: "audit_entries"
DROP INDEX `auditentry_tenant_id_at`;
-- reverse: create index "auditentry_chain_seq" to table: "audit_entries"
DROP INDEX `auditentry_chain_seq`;
-- reverse: create "audit_entries" table
DROP TABLE `audit_entries`;
-- reverse: create index "apikey_tenant_id_name" to table: "api_keys"
DROP INDEX `apikey_tenant_id_name`;
-- reverse: create index "apikey_tenant_id" to table: "api_keys"
DROP INDEX `apikey_tenant_id`;
-- reverse: create index "api_keys_key_id_key" to table: "api_keys"
DROP INDEX `api_keys_key_id_key`;
-- reverse: create "api_keys" table
DROP TABLE `api_keys`;
