-- +goose Up
-- modify "cases" table
ALTER TABLE "cases" ADD COLUMN "stage_deadlines" jsonb NULL;

-- +goose Down
-- reverse: modify "cases" table
ALTER TABLE "cases" DROP COLUMN "stage_deadlines";
