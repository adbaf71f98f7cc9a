#!/usr/bin/env bash
# ensure-postgres.sh makes a local PostgreSQL server available for the test
# suites (app/pkg/testdb) on 127.0.0.1:5432 with a test-only superuser role
# cityops/cityops.
#
# It is idempotent: when the server already answers as cityops it exits 0
# without output. Otherwise it installs the Debian package if missing, starts
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

say() { printf 'ensure-postgres: %s\n' "$*"; }
die() { printf 'ensure-postgres: error: %s\n' "$*" >&2; exit 1; }

# answers_as_cityops succeeds when the server accepts a password login as the
# test role over TCP, which is exactly what the test harness needs.
answers_as_cityops() {
	command -v psql >/dev/null 2>&1 || return 1
	PGPASSWORD="$password" PGCONNECT_TIMEOUT=3 psql -X -q -w \
		-h 127.0.0.1 -p "$port" -U "$role" -d postgres \
		-c 'SELECT 1' >/dev/null 2>&1
}

if answers_as_cityops; then
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
		say "ready on 127.0.0.1:${port} (PostgreSQL ${major}, role ${role})"
		exit 0
	fi
	sleep 1
done
die "PostgreSQL ${major} is running but does not accept password logins as ${role} on 127.0.0.1:${port}; check pg_hba.conf"
