#!/usr/bin/env bash
# Set up everything the test suite needs on Debian 12 (Python 3.11) and run it.
#   bash scripts/test.sh [pytest args]
# Installs Debian's gdal-bin (ogrinfo, the OGC API client under test), PostgreSQL + PostGIS (the team store) and
# Chromium (the browser that drives the map tests), makes .venv, starts a PostGIS cluster and runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends \
    python3-venv python3-pip gdal-bin postgresql postgis postgresql-postgis chromium fonts-noto-cjk >/dev/null

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# a PostGIS database for the store tests (an assignment, so that a failing script stops the run)
pgenv=$(bash scripts/postgis.sh)
eval "$pgenv"

# lint, format and types first: they take seconds
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    exit 1
fi
exit "$rc"
