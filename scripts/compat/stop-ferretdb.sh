#!/usr/bin/env bash
# Stops what scripts/compat/start-ferretdb.sh started: FerretDB, then PostgreSQL (fast shutdown).
# Data stays under ${ECODRIX_DATA_DIR:-.data}/ferretdb/; delete that directory for a clean slate.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${ECODRIX_DATA_DIR:-$root/.data}/ferretdb"
pgdata="$data/pg"
pg_bin=/usr/lib/postgresql/15/bin

if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi

if [ -f "$data/ferretdb.pid" ]; then
  pid="$(cat "$data/ferretdb.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stop-ferretdb: FerretDB stopped" >&2
  fi
  rm -f "$data/ferretdb.pid" "$data/uri" "$data/mongo.port"
fi

if [ -f "$pgdata/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  as_pg "$pg_bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
  echo "stop-ferretdb: PostgreSQL stopped" >&2
fi
rm -f "$data/pg.port"
