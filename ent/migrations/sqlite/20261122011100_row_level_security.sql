-- SQLite has no row-level security: on SQLite the ent privacy rules
-- (ent/rule) are the only tenant isolation layer. This file is empty on
-- purpose; it keeps the versions of both dialects aligned (see the
-- PostgreSQL file of the same version for the policies).

-- +goose Up

-- +goose Down
