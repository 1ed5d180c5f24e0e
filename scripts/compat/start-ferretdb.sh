#!/usr/bin/env bash
# Starts the second test backend: PostgreSQL 15 with DocumentDB (as the `postgres` user when run as
# root) on a free port, and FerretDB v2.5.0 on another free port, both on 127.0.0.1 only.
# Data lives under ${ECODRIX_DATA_DIR:-.data}/ferretdb/ (git-ignored). Prints the MongoDB URI on stdout
# (and writes it to .data/ferretdb/uri); when both are already running it only prints the URI.
# Stop with scripts/compat/stop-ferretdb.sh. Install first with scripts/compat/install-ferretdb.sh.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${ECODRIX_DATA_DIR:-$root/.data}/ferretdb"
ferretdb_bin="$root/.tools/ferretdb/bin/ferretdb"
pg_bin=/usr/lib/postgresql/15/bin
pgdata="$data/pg"

say() { printf 'start-ferretdb: %s\n' "$*" >&2; }
die() { printf 'start-ferretdb: %s\n' "$*" >&2; exit 1; }

[ -x "$ferretdb_bin" ] && [ -f "$("$pg_bin/pg_config" --pkglibdir 2>/dev/null)/pg_documentdb.so" ] ||
  die "FerretDB is not installed: run scripts/compat/install-ferretdb.sh (as root) first"

# initdb and postgres refuse to run as root: as root, run them as the `postgres` user.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "no 'postgres' user (it comes with Debian's postgresql-15 package)"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { # a port nothing listens on; the caller retries if it is taken before it binds
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  die "found no free port"
}
pg_running() { [ -f "$pgdata/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; }

if pg_running && alive "$data/ferretdb.pid" && [ -f "$data/uri" ] && port_in_use "$(cat "$data/mongo.port")"; then
  cat "$data/uri"
  exit 0
fi

mkdir -p "$data"
chmod 755 "$data"

# --- PostgreSQL --------------------------------------------------------------------------------------
if [ ! -f "$pgdata/PG_VERSION" ]; then
  say "initialising PostgreSQL data directory $pgdata"
  rm -rf "$pgdata" && mkdir -p "$pgdata"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$pgdata"
  as_pg test -w "$pgdata" || die "the postgres user cannot write $pgdata (a parent directory is not traversable for it)"
  as_pg "$pg_bin/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1 ||
    die "initdb failed: see $data/initdb.log"
  echo "include_if_exists = 'ecodrix.conf'" | as_pg tee -a "$pgdata/postgresql.conf" >/dev/null
fi
# Rewritten at every start, so a changed setting needs a restart, not a new data directory.
as_pg tee "$pgdata/ecodrix.conf" >/dev/null <<'CONF'
# ECODrIx test backend: written by scripts/compat/start-ferretdb.sh at every start.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''          # TCP only: no socket path length or /var/run permissions to care about
max_connections = 200                 # FerretDB's pool takes up to 50, plus pg_cron and DocumentDB's workers
shared_buffers = 256MB
shared_preload_libraries = 'pg_cron,pg_documentdb_core,pg_documentdb'
cron.database_name = 'postgres'
# DocumentDB runs index builds and TTL expiry as pg_cron jobs. In background workers, not over a
# connection: a job stores the port it was created with, and the port changes at every start.
cron.use_background_workers = on
max_worker_processes = 32
cron.log_run = off                    # they run every second: keep the log for what matters
cron.log_statement = off
# DocumentDB's own RUM fork (carries upstream RUM's fix for a scan-during-split race).
documentdb.rum_library_load_option = 'require_documentdb_extended_rum'
# Test data only: durability off, but full_page_writes stays on. With it off, crash recovery after
# a backend crash left RUM indexes corrupt ("right sibling of RUM page is of different type").
fsync = off
synchronous_commit = off
full_page_writes = on
CONF

if ! pg_running; then
  [ "$(id -u)" -ne 0 ] || chown postgres: "$pgdata"
  started_pg=false
  for _ in 1 2 3 4 5; do
    pg_port="$(free_port)"
    if as_pg "$pg_bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -o "-p $pg_port" -w -t 60 start >/dev/null 2>&1; then
      started_pg=true
      break
    fi
    port_in_use "$pg_port" || { tail -n 20 "$pgdata/server.log" >&2; die "PostgreSQL did not start: see $pgdata/server.log"; }
  done
  $started_pg || die "PostgreSQL found no free port"
  echo "$pg_port" >"$data/pg.port"
  say "PostgreSQL 15 on 127.0.0.1:$pg_port (data $pgdata)"
fi
pg_port="$(cat "$data/pg.port")"
psql_pg() { as_pg "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_pg -c "CREATE EXTENSION IF NOT EXISTS documentdb CASCADE" -c "CREATE EXTENSION IF NOT EXISTS documentdb_extended_rum" \
  >>"$data/initdb.log" 2>&1 || die "CREATE EXTENSION documentdb failed: see $data/initdb.log and $pgdata/server.log"

# --- FerretDB ----------------------------------------------------------------------------------------
if alive "$data/ferretdb.pid"; then kill "$(cat "$data/ferretdb.pid")" 2>/dev/null || true; fi
for _ in 1 2 3 4 5; do
  mongo_port="$(free_port)"
  # Its own session (setsid), so it outlives this script and a Ctrl-C in the caller's terminal.
  setsid "$ferretdb_bin" \
    --postgresql-url="postgres://postgres@127.0.0.1:$pg_port/postgres" \
    --listen-addr="127.0.0.1:$mongo_port" --debug-addr= \
    --no-auth --telemetry=disable --state-dir="$data" --log-level=warn \
    </dev/null >>"$data/ferretdb.log" 2>&1 &
  echo $! >"$data/ferretdb.pid"
  for _ in $(seq 1 100); do
    port_in_use "$mongo_port" && break
    alive "$data/ferretdb.pid" || break
    sleep 0.1
  done
  if port_in_use "$mongo_port" && alive "$data/ferretdb.pid"; then
    echo "$mongo_port" >"$data/mongo.port"
    echo "mongodb://127.0.0.1:$mongo_port" >"$data/uri"
    say "FerretDB v2.5.0 on 127.0.0.1:$mongo_port (log $data/ferretdb.log)"
    cat "$data/uri"
    exit 0
  fi
  kill "$(cat "$data/ferretdb.pid")" 2>/dev/null || true
done
tail -n 20 "$data/ferretdb.log" >&2
die "FerretDB did not start: see $data/ferretdb.log"
