-- +goose Up
-- add column "stage_deadlines" to table: "cases"
ALTER TABLE `cases` ADD COLUMN `stage_deadlines` json NULL;

-- +goose Down
-- reverse: add column "stage_deadlines" to table: "cases"
ALTER TABLE `cases` DROP COLUMN `stage_deadlines`;
