#!/bin/sh
# Runs once, when the postgres container initialises an empty volume: the
# platform's login role, which cannot bypass row-level security. Its table
# privileges are granted by `cityctl migrate -grant-app cityops_app`.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE cityops_app LOGIN PASSWORD '${APP_DB_PASSWORD}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
SQL
