#!/usr/bin/env bash
# ensure-postgres.sh makes a local PostgreSQL server available for the test
# suites (app/pkg/testdb) on 127.0.0.1:5432 with a test-only superuser role
# cityops/cityops, which owns and migrates the test databases, and the
# application role cityops_app/cityops_app (LOGIN, NOSUPERUSER, NOBYPASSRLS,
# NOCREATEDB, NOCREATEROLE) that the tests connect as, so that PostgreSQL
# row-level security binds them as it binds the platform in production.
# Per-database privileges of cityops_app are granted by database.GrantApp
# after migrating, not here.
#
# It is idempotent: when the server already answers as both roles, with
# cityops_app unprivileged, it exits 0 without output. Otherwise it installs the Debian package if missing, starts
# the cluster of the newest installed major version, creates the role and
# waits until the server accepts connections, printing one line per action.
# Meant for developer machines and CI runners (Debian, root, no TTY).
#
# Environment:
#   CITYOPS_PG_PORT   port to check (default 5432)
#   CITYOPS_PG_WAIT   seconds to wait for readiness (default 30)
#   CITYOPS_PG_TUNE   1 (default) turns off fsync, synchronous_commit and
#                     full_page_writes on a cluster this script starts: the
#                     test harness creates and drops many databases and they
#                     need no durability. Set 0 on a cluster holding data
#                     you care about.
set -euo pipefail

port="${CITYOPS_PG_PORT:-5432}"
wait_seconds="${CITYOPS_PG_WAIT:-30}"
tune="${CITYOPS_PG_TUNE:-1}"
role="cityops"
password="cityops"
app_role="cityops_app"
app_password="cityops_app"

say() { printf 'ensure-postgres: %s\n' "$*"; }
die() { printf 'ensure-postgres: error: %s\n' "$*" >&2; exit 1; }

# answers_as USER PASSWORD succeeds when the server accepts a password login
# as USER over TCP, which is exactly what the test harness needs.
answers_as() {
	command -v psql >/dev/null 2>&1 || return 1
	PGPASSWORD="$2" PGCONNECT_TIMEOUT=3 psql -X -q -w \
		-h 127.0.0.1 -p "$port" -U "$1" -d postgres \
		-c 'SELECT 1' >/dev/null 2>&1
}
answers_as_cityops() { answers_as "$role" "$password"; }

# as_cityops runs psql as the superuser test role over TCP (no root needed).
as_cityops() {
	PGPASSWORD="$password" PGCONNECT_TIMEOUT=3 psql -X -q -w -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$port" -U "$role" -d postgres "$@"
}

# app_role_ok succeeds when cityops_app logs in and holds none of the
# attributes that would let it skip row-level security or escape its grants.
app_role_ok() {
	answers_as "$app_role" "$app_password" || return 1
	[[ "$(as_cityops -t -A -c "SELECT rolsuper OR rolbypassrls OR rolcreatedb OR rolcreaterole
		FROM pg_roles WHERE rolname = '${app_role}'" 2>/dev/null)" == "f" ]]
}

# ensure_app_role creates cityops_app, or resets its password and attributes;
# the DO block makes a concurrent creation by the test harness harmless.
ensure_app_role() {
	app_role_ok && return 0
	say "creating or resetting role ${app_role} (no superuser, no BYPASSRLS)"
	as_cityops -c "DO \$\$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${app_role}') THEN
		CREATE ROLE ${app_role};
	END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
	NULL;
END
\$\$" \
		-c "ALTER ROLE ${app_role} WITH LOGIN PASSWORD '${app_password}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE" >/dev/null
	app_role_ok || die "role ${app_role} was created but does not log in over TCP on 127.0.0.1:${port}; check pg_hba.conf"
}

if answers_as_cityops; then
	ensure_app_role
	exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
	die "PostgreSQL is not reachable as ${role} on 127.0.0.1:${port}; run this script as root to install/start it"
fi

# Install the server only when no major version is present: apt-get is slow
# and needs the network, so a machine that already has it must not touch it.
if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
	say "installing postgresql (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# Detect the newest installed major version instead of hard-coding 15, so a
# runner image with a newer Debian still works.
major="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
[[ -n "$major" ]] || die "no PostgreSQL major version found under /usr/lib/postgresql"

if [[ -z "$(pg_lsclusters -h 2>/dev/null | awk -v v="$major" '$1 == v && $2 == "main"')" ]]; then
	say "creating cluster ${major}/main"
	pg_createcluster "$major" main >/dev/null
fi

cluster_status="$(pg_lsclusters -h | awk -v v="$major" '$1 == v && $2 == "main" {print $4}')"
cluster_port="$(pg_lsclusters -h | awk -v v="$major" '$1 == v && $2 == "main" {print $3}')"
if [[ "$cluster_port" != "$port" ]]; then
	die "cluster ${major}/main is configured for port ${cluster_port}, expected ${port}"
fi
if [[ "$cluster_status" != online* ]]; then
	say "starting cluster ${major}/main"
	pg_ctlcluster "$major" main start
fi

# Wait for the server to accept local (peer) connections before creating the
# role; pg_ctlcluster returns before recovery may have finished.
ready=0
for _ in $(seq 1 "$wait_seconds"); do
	if runuser -u postgres -- pg_isready -q -p "$port" >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 1
done
[[ "$ready" -eq 1 ]] || die "cluster ${major}/main did not become ready within ${wait_seconds}s"

# The role is SUPERUSER because the harness creates and drops databases and
# the migrations may create extensions; it exists only on test machines.
exists="$(runuser -u postgres -- psql -X -q -t -A -p "$port" -d postgres \
	-c "SELECT 1 FROM pg_roles WHERE rolname = '${role}'")"
if [[ "$exists" != "1" ]]; then
	say "creating role ${role}"
	runuser -u postgres -- psql -X -q -p "$port" -d postgres -v ON_ERROR_STOP=1 \
		-c "CREATE ROLE ${role} WITH LOGIN SUPERUSER PASSWORD '${password}'" >/dev/null
else
	say "resetting password and privileges of role ${role}"
	runuser -u postgres -- psql -X -q -p "$port" -d postgres -v ON_ERROR_STOP=1 \
		-c "ALTER ROLE ${role} WITH LOGIN SUPERUSER PASSWORD '${password}'" >/dev/null
fi

if [[ "$tune" == "1" ]]; then
	say "tuning cluster ${major}/main for tests (fsync, synchronous_commit, full_page_writes off)"
	runuser -u postgres -- psql -X -q -p "$port" -d postgres -v ON_ERROR_STOP=1 \
		-c "ALTER SYSTEM SET fsync = off" \
		-c "ALTER SYSTEM SET synchronous_commit = off" \
		-c "ALTER SYSTEM SET full_page_writes = off" \
		-c "SELECT pg_reload_conf()" >/dev/null
fi

for _ in $(seq 1 "$wait_seconds"); do
	if answers_as_cityops; then
		ensure_app_role
		say "ready on 127.0.0.1:${port} (PostgreSQL ${major}, roles ${role} and ${app_role})"
		exit 0
	fi
	sleep 1
done
die "PostgreSQL ${major} is running but does not accept password logins as ${role} on 127.0.0.1:${port}; check pg_hba.conf"
