-- SQLite has no row-level security; this empty file keeps the versions of
-- both dialects aligned (see the PostgreSQL file of the same version).

-- +goose Up

-- +goose Down
