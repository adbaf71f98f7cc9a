-- +goose Up
-- add column "published_at" to table: "federation_commands"
ALTER TABLE `federation_commands` ADD COLUMN `published_at` datetime NULL;

-- +goose Down
-- reverse: add column "published_at" to table: "federation_commands"
ALTER TABLE `federation_commands` DROP COLUMN `published_at`;
