#!/usr/bin/env bash
# PostgreSQL for the store's tests (tests/postgres.py starts a server of its own with initdb and
# pg_ctl in a temporary folder): Debian's own package, installed only when initdb is missing.
# Debian keeps initdb off PATH (/usr/lib/postgresql/<version>/bin), where the tests look too.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi
exec "$(dirname "$0")/apt-install.sh" initdb postgresql
