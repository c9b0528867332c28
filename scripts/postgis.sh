#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster, create the test database with PostGIS, and print the
# `export LANDREADY_TEST_DB=…` line for the caller to eval. Idempotent.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # runuser lives in sbin
exec 3>&1 1>&2  # only the export line goes to stdout: the caller evals it
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main"' | grep -q .; then
    pg_createcluster "$ver" main >/dev/null
fi
# The server daemonizes: it must not inherit fd 3 (the caller's $(...) pipe), or the caller waits for EOF forever.
pg_ctlcluster "$ver" main start </dev/null >/dev/null 2>&1 3>&- || true  # "already running" is fine
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
for _ in $(seq 1 30); do as_pg pg_isready -q -p "$port" && break; sleep 1; done
as_pg psql -q -p "$port" -tc "SELECT 1 FROM pg_roles WHERE rolname='landready'" | grep -q 1 \
    || as_pg psql -q -p "$port" -c "CREATE ROLE landready LOGIN SUPERUSER PASSWORD 'landready'"
as_pg psql -q -p "$port" -tc "SELECT 1 FROM pg_database WHERE datname='landready_test'" | grep -q 1 \
    || as_pg createdb -p "$port" -O landready landready_test
# postgis needs Debian's postgresql-postgis (only a Recommends of postgis); say so rather than hide it
as_pg psql -q -p "$port" -d landready_test -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
echo "export LANDREADY_TEST_DB='postgresql://landready:landready@127.0.0.1:$port/landready_test'" >&3
