-- +goose Up
-- modify "federation_commands" table
ALTER TABLE "federation_commands" ADD COLUMN "published_at" timestamptz NULL;

-- +goose Down
-- reverse: modify "federation_commands" table
ALTER TABLE "federation_commands" DROP COLUMN "published_at";
