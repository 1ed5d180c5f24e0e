#!/usr/bin/env bash
# Builds and installs the second test backend on a Debian 12 machine (root, apt reachable):
# PostgreSQL 15 (Debian), pg_cron 1.6 and pgvector (vendored sources), DocumentDB with its own RUM
# fork (FerretDB's fork, vendored) and FerretDB v2.5.0 (Go module proxy).
#
# Idempotent: build output is cached under .tools/ferretdb/ (git-ignored) keyed by the source's
# checksum and the build flags, so a second run only checks that everything is in place.
# Start it with scripts/compat/start-ferretdb.sh. Facts behind each step: scripts/compat/README.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
vendor="$root/vendor"
cache="$root/.tools/ferretdb"
stamps="$cache/stamps"
src="$cache/src"
pg_major=15
pg_config="/usr/lib/postgresql/$pg_major/bin/pg_config"
ferretdb_version="v2.5.0"
ferretdb_commit="b4eda04f375ca6eb63867d36901787e5af6d0eb6" # the v2.5.0 tag, recorded by the module proxy
# FerretDB v2.5.0 accepts exactly this DocumentDB version string (its build/version/documentdb.go).
documentdb_git_version="HEAD sha:beb9d25d98 buildId:0"

started=$(date +%s)
say() { printf 'install-ferretdb: %s\n' "$*"; }
die() { printf 'install-ferretdb: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages and PostgreSQL extensions)"
command -v apt-get >/dev/null || die "needs Debian's apt-get (written for Debian 12 bookworm)"

# --- 1. Debian packages -------------------------------------------------------------------------
packages=(
  build-essential pkg-config
  "postgresql-$pg_major" "postgresql-server-dev-$pg_major" postgresql-contrib libpq-dev
  libicu-dev libkrb5-dev "postgresql-$pg_major-postgis-3" "postgresql-$pg_major-rum"
  libbson-dev libpcre2-dev libintelrdfpmath-dev
  systemtap-sdt-dev # sys/sdt.h: DocumentDB's RUM fork includes it on PostgreSQL 15
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  mkdir -p "$cache/logs"
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$cache/logs/apt.log" 2>&1; then
    tail -n 40 "$cache/logs/apt.log" >&2
    die "apt-get install failed (whole log: $cache/logs/apt.log)"
  fi
fi
# Debian's own cluster (port 5432) is not used: start-ferretdb.sh runs its own data directory.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q "^$pg_major main .* online"; then
  say "stopping Debian's default cluster $pg_major/main (not used; start-ferretdb.sh runs its own)"
  pg_ctlcluster "$pg_major" main stop || true
fi

# --- 2. Vendored sources, verified before use -----------------------------------------------------
(cd "$vendor" && sha256sum --quiet -c SHA256SUMS) || die "vendor/ tarballs do not match vendor/SHA256SUMS"
sum_of() { grep " $1\$" "$vendor/SHA256SUMS" | cut -c1-16; }

mkdir -p "$stamps" "$src" "$cache/logs"
# Build output goes to .tools/ferretdb/logs/<step>.log; on failure its tail is shown.
logged() { # step, command...
  local step="$1"; shift
  if ! "$@" >>"$cache/logs/$step.log" 2>&1; then
    tail -n 40 "$cache/logs/$step.log" >&2
    die "$step failed (whole log: $cache/logs/$step.log)"
  fi
}
# A step is skipped when its stamp holds the same key (source checksum + flags) and its installed
# files are still there (a fresh machine with a copied .tools/ still installs).
stamp_ok() { [ -f "$stamps/$1" ] && [ "$(cat "$stamps/$1")" = "$2" ]; }
unpack() { # tarball, directory it creates under $src
  rm -rf "${src:?}/$2"
  tar -xzf "$vendor/$1" -C "$src"
}
pkglibdir="$("$pg_config" --pkglibdir)"
sharedir="$("$pg_config" --sharedir)"

# PGXS flags: no LLVM bitcode (Debian's clang is not installed), no -march=native (portable cache).
pgxs=(USE_PGXS=1 "PG_CONFIG=$pg_config" with_llvm=no)

build_pgxs() { # name, tarball, directory, extra make args...
  local name="$1" tarball="$2" dir="$3"; shift 3
  local key; key="$(sum_of "$tarball") $*"
  if stamp_ok "$name" "$key" && [ -f "$pkglibdir/$name.so" ]; then return 0; fi
  if ! stamp_ok "$name" "$key"; then
    say "building $name"
    unpack "$tarball" "$dir"
    : >"$cache/logs/$name.log"
    logged "$name" make -C "$src/$dir" "${pgxs[@]}" "$@" -j"$(nproc)"
  fi
  logged "$name" make -C "$src/$dir" "${pgxs[@]}" "$@" install
  echo "$key" >"$stamps/$name"
}

# --- 3. pg_cron 1.6 and pgvector (Debian 12 has pg_cron 1.4, which DocumentDB rejects) -----------
build_pgxs pg_cron pg_cron-1.6.3.tar.gz pg_cron
build_pgxs vector pgvector-0.8.0.tar.gz pgvector OPTFLAGS=

# --- 4. DocumentDB (core, API, extended RUM) --------------------------------------------------------
# Debian's libintelrdfpmath-dev has no pkg-config module; DocumentDB's Makefiles ask for one.
mkdir -p "$cache/pkgconfig"
cat >"$cache/pkgconfig/intelmathlib.pc" <<'PC'
Name: intelmathlib
Description: Intel Decimal Floating-Point Math Library (Debian libintelrdfpmath-dev)
Version: 2.0
Cflags: -I/usr/include
Libs: -L/usr/lib/x86_64-linux-gnu -l:libbidgcc000.a
PC
export PKG_CONFIG_PATH="$cache/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# Debian 12's libbson 1.23 lacks BSON_SUBTYPE_SENSITIVE (added in 1.24; the value is MongoDB's).
documentdb_copt="-DBSON_SUBTYPE_SENSITIVE=0x08 -Wno-error=switch"
# INSIDE_GIT_REPO=false: the build tree lives inside this repository's checkout, whose branch and
# sha must not end up in the extension's version string.
documentdb_make=("${pgxs[@]}" "COPT=$documentdb_copt" INSIDE_GIT_REPO=false)
documentdb_key="$(sum_of documentdb-0.106.0-ferretdb-2.5.0.tar.gz) $(sum_of documentdb-extended-rum-0.106.0-ferretdb-2.5.0.tar.gz) $documentdb_copt $documentdb_git_version"
documentdb_installed() {
  [ -f "$pkglibdir/pg_documentdb_core.so" ] && [ -f "$pkglibdir/pg_documentdb.so" ] &&
    [ -f "$pkglibdir/pg_documentdb_extended_rum.so" ] && [ -f "$sharedir/extension/documentdb.control" ]
}
if ! stamp_ok documentdb "$documentdb_key" || ! documentdb_installed; then
  ddb="$src/documentdb"
  if ! stamp_ok documentdb "$documentdb_key"; then
    say "building DocumentDB (pg_documentdb_core, pg_documentdb, pg_documentdb_extended_rum)"
    unpack documentdb-0.106.0-ferretdb-2.5.0.tar.gz documentdb
    tar -xzf "$vendor/documentdb-extended-rum-0.106.0-ferretdb-2.5.0.tar.gz" -C "$src"
    # Outside a git checkout the generated version header says "unknown", which FerretDB refuses;
    # pin it to the tag's (the Makefile then finds it up to date and keeps it).
    for ext in pg_documentdb; do
      mkdir -p "$ddb/$ext/build/include/metadata"
      version="$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$ddb/$ext/documentdb.control")"
      printf '// Pinned by install-ferretdb.sh\n#define EXTENSION_VERSION_STR "%s"\n#define GIT_VERSION "%s"\n' \
        "${version/-/.}" "$documentdb_git_version" >"$ddb/$ext/build/include/metadata/documentdb_extension_version.h"
    done
    : >"$cache/logs/documentdb.log"
    for dir in pg_documentdb_core pg_documentdb internal/pg_documentdb_extended_rum; do
      logged documentdb make -C "$ddb/$dir" "${documentdb_make[@]}" -j"$(nproc)"
    done
  fi
  for dir in pg_documentdb_core pg_documentdb internal/pg_documentdb_extended_rum; do
    logged documentdb make -C "$ddb/$dir" "${documentdb_make[@]}" install
  done
  echo "$documentdb_key" >"$stamps/documentdb"
fi

# --- 5. FerretDB from the Go module proxy -----------------------------------------------------------
ferretdb_bin="$cache/bin/ferretdb"
go_bin="$(command -v go || true)"
[ -n "$go_bin" ] || [ ! -x /usr/local/go/bin/go ] || go_bin=/usr/local/go/bin/go
go_key="$ferretdb_version $ferretdb_commit"
if ! stamp_ok ferretdb "$go_key" || [ ! -x "$ferretdb_bin" ]; then
  [ -n "$go_bin" ] || die "needs Go 1.24 or newer on PATH (FerretDB $ferretdb_version's go.mod asks for 1.24)"
  say "building FerretDB $ferretdb_version with $("$go_bin" version | cut -d' ' -f3)"
  export GOPATH="$cache/go" GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/cache" GOFLAGS=-modcacherw
  export GOTOOLCHAIN=local CGO_ENABLED=0
  moddir="$(cd "$cache" && "$go_bin" mod download -json "github.com/FerretDB/FerretDB/v2@$ferretdb_version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$moddir" ] || die "go mod download of FerretDB $ferretdb_version failed"
  build="$src/ferretdb"
  rm -rf "$build" && cp -a "$moddir" "$build" && chmod -R u+w "$build"
  # v2.5.0 defines setGOMAXPROCS only for Go < 1.25 (Go 1.25 sizes GOMAXPROCS from cgroups itself).
  cat >"$build/cmd/ferretdb/gomaxprocs_go125.go" <<'GO'
//go:build go1.25

package main

import "log/slog"

// setGOMAXPROCS does nothing: Go 1.25 and newer size GOMAXPROCS from the cgroup quota themselves.
func setGOMAXPROCS(_ *slog.Logger) {}
GO
  # The version files a release build generates (build/version embeds *.txt).
  echo "$ferretdb_version" >"$build/build/version/version.txt"
  echo "$ferretdb_commit" >"$build/build/version/commit.txt"
  : >"$cache/logs/ferretdb.log"
  (cd "$build" && logged ferretdb "$go_bin" mod download && logged ferretdb "$go_bin" build -trimpath -o "$ferretdb_bin.tmp" ./cmd/ferretdb)
  mv "$ferretdb_bin.tmp" "$ferretdb_bin"
  echo "$go_key" >"$stamps/ferretdb"
fi

say "ready in $(($(date +%s) - started)) s: $("$ferretdb_bin" --version 2>/dev/null | head -1), PostgreSQL $("$pg_config" --version | cut -d' ' -f2)"
