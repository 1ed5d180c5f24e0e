#!/usr/bin/env bash
# `npm run fuzz`: Schemathesis over every operation of the API's own OpenAPI document.
#
# Starts the API on the embedded database (scripts/fuzz/fuzz-api-server.ts: a random admin token, the
# sandbox fakes, a seeded client with its datasource, and one lead, appointment, automation and job of
# it) and sends every request with both the admin and the client's credentials, so admin and tenant
# routes reach their handlers. Positive and negative data (bad input
# must get a 4xx), checked for:
#   not_a_server_error            no 5xx, ever
#   response_schema_conformance   every answer matches its documented schema (errors: ErrorResponse)
#   status_code_conformance       every status is documented
#   content_type_conformance      every Content-Type is documented
#   negative_data_rejection       input that violates the schema is refused with a 4xx
# Schemathesis comes from PyPI, pinned with its dependencies in requirements.txt, in a virtual
# environment cached under ~/.cache/ecodrix (keyed by the requirements' hash).
#
# One worker: Hypothesis parses lambdas with `ast.parse`, which CPython 3.11 before 3.11.8 can fail in
# threads ("AST constructor recursion depth mismatch"), and the API shares the machine's 2 cores anyway.
# FUZZ_MAX_EXAMPLES (default 25) bounds the cases per operation and phase, FUZZ_SEED fixes the run.
# Exits non-zero on any finding.
#
# Exclusions (each with its reason; everything else is fuzzed):
#   - The routes the document hides: /api/docs/* (the docs page and its bundle) and /console/* (the ops
#     console's static files): HTML and JavaScript for browsers, not API operations, covered by their own
#     tests (openapi.test.ts, plugins/console.test.ts); openapi.test.ts refuses any other hidden route.
#   - Deletions never get a seeded resource's id (below): they would take it from the passes after them.
#   - schemathesis.toml counts 413, 414 and 431 (body, path parameter, URL or headers too large) as
#     refusals of bad input, beside Schemathesis's own list.
# Checks not run: unsupported_method (the API answers an undeclared method on a known path 404 in the
# error model, not 405) and positive_data_acceptance (the domain refuses some values the schemas allow,
# e.g. a CORS URL that is not an origin, with a 400 naming the field).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD/scripts/fuzz

cache="${XDG_CACHE_HOME:-$HOME/.cache}/ecodrix"
hash=$(sha256sum "$here/requirements.txt" | cut -c1-12)
venv="$cache/schemathesis-$hash"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "fuzz: installing schemathesis into $venv" >&2
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

node --import tsx "$here/fuzz-api-server.ts" >"$work/ready" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 120); do
  [ -s "$work/ready" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "fuzz: the API did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 1
done
[ -s "$work/ready" ] || { echo "fuzz: the API did not start within 120 s" >&2; cat "$work/server.log" >&2; exit 1; }
field() { node -e 'const v = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]]; process.stdout.write(String(v))' "$work/ready" "$1"; }
url=$(field url)
echo "fuzz: API at $url (embedded database), client $(field clientCode)" >&2

started=$(date +%s)
status=0
# One schemathesis run: a name, which operations (a tag regex or a path regex, and a method regex), and
# the path `id` fixed to a seeded resource's, or empty to fuzz every parameter.
fuzz() { # label, --include-tag-regex | --include-path-regex, its regex, method regex, id
  local config="$here/schemathesis.toml"
  if [ -n "$5" ]; then
    config="$work/schemathesis-$1.toml"
    { cat "$here/schemathesis.toml"; printf '\n[parameters]\n"path.id" = "%s"\n"path.leadId" = "%s"\n' "$5" "$5"; } >"$config"
  fi
  echo "fuzz: $1" >&2
  # From the scratch directory: Hypothesis and Schemathesis keep their caches in the working directory.
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$config" run "$url/api/openapi.json" \
    --url "$url" \
    "$2" "$3" \
    --include-method-regex "$4" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,negative_data_rejection \
    --mode all \
    --phases examples,coverage,fuzzing \
    --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
    ${FUZZ_SEED:+--seed "$FUZZ_SEED"} \
    --workers 1 \
    --request-timeout 10 \
    --suppress-health-check all \
    --no-color \
    -H "x-core-api-key: $(field adminToken)" \
    -H "x-client-code: $(field clientCode)" \
    -H "x-api-key: $(field apiKey)") \
    || status=$?
}
# First the operations on one resource with the id of one the server seeded (the fuzzer cannot guess an
# ObjectId, so with fuzzed ids they only reach the lookup's 404; deletions are left to the next pass, which
# finds ids in list answers and would delete the seeded ones). Then every operation with every parameter
# fuzzed: tenant and public first, since admin routes may rotate or delete clients (the fuzzer picks the
# codes) and leave the tenant's key dead.
fuzz "a seeded lead" --include-path-regex '^/api/crm/(leads/\{id\}|scoring/\{leadId\})' '^(GET|PATCH|POST)$' "$(field leadId)"
fuzz "a seeded appointment" --include-path-regex '^/api/crm/appointments/\{id\}' '.*' "$(field appointmentId)"
fuzz "a seeded automation" --include-path-regex '^/api/crm/automations/\{id\}' '^(GET|PATCH)$' "$(field automationId)"
fuzz "a seeded job (tenant)" --include-path-regex '^/api/saas/jobs/\{id\}' '.*' "$(field jobId)"
fuzz "tenant and public operations" --include-tag-regex '^(tenant|public)$' '.*' ''
fuzz "admin operations" --include-tag-regex '^admin$' '.*' ''
fuzz "a seeded job (admin)" --include-path-regex '^/api/admin/jobs/\{id\}' '^(GET|POST)$' "$(field jobId)"
echo "fuzz: schemathesis took $(( $(date +%s) - started )) s (exit $status)" >&2
if [ "$status" -ne 0 ] && grep -q . "$work/server.log"; then
  echo "fuzz: the API's warnings and errors during the run:" >&2
  tail -n 200 "$work/server.log" >&2
fi
exit "$status"
