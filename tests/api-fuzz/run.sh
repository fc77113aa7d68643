#!/usr/bin/env bash
# Fuzzes the registry's HTTP API against its own OpenAPI document with Schemathesis.
# Starts a throwaway registry (`serve --demo`, so there is a badge and an auditor) from the
# built debug binary on a free loopback port, withdraws its first badge key and has the
# operator suspend the demo badge (so the key set carries retired and withdrawn keys and
# status changes meet an operator's suspension), then runs a bounded, derandomized
# Schemathesis pass over every operation that fails on any 5xx answer and on any status
# code, content type or body the document does not describe. Stops the registry (SIGTERM)
# and removes its data, also when something fails. Exits non-zero on any finding.
# Needs target/debug/trustmark-registry (`cargo build --bins`) and .venv with
# tests/api-fuzz/requirements.txt installed; scripts/test-all provides both.
# TRUSTMARK_FUZZ_EXAMPLES (default 30) sets the examples per operation and
# TRUSTMARK_FUZZ_CHECKS the checks; arguments go on to `schemathesis run` (e.g.
# `--report ndjson --report-dir DIR`, DIR absolute: it runs in a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

# Where cargo puts binaries (honours CARGO_TARGET_DIR and config), as scripts/test-all.
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
registry="$target_dir/debug/trustmark-registry"
schemathesis=.venv/bin/schemathesis
if [ ! -x "$registry" ]; then
  echo "error: $registry is not built; run cargo build --bins" >&2
  exit 2
fi
if [ ! -x "$schemathesis" ]; then
  echo "error: $schemathesis is missing; install tests/api-fuzz/requirements.txt into .venv" >&2
  exit 2
fi

work=$(mktemp -d)
data="$work/data"
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() {
  echo "== registry log (last 50 lines)" >&2
  tail -n 50 "$work/registry.log" >&2
}

# Port 0: the kernel picks a free port, and the registry prints the address it bound.
# The log file exists before the registry starts, so polling it never races its creation.
: >"$work/registry.log"
NO_COLOR=1 "$registry" serve --demo --listen 127.0.0.1:0 --data "$data" 2>"$work/registry.log" &
pid=$!
base=
for _ in $(seq 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "error: the registry exited before it was ready" >&2
    show_log
    exit 2
  fi
  base=$(sed -n 's|.*listening on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' "$work/registry.log" | head -n 1)
  if [ -n "$base" ] && curl -fsS --max-time 2 "$base/healthz" >/dev/null 2>&1; then
    break
  fi
  base=
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "error: the registry did not answer /healthz within 30 s" >&2
  show_log
  exit 2
fi
echo "registry at $base (data in a temporary directory)"

# The demo badge, issued for the registry's own origin.
encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$base")
badge=$(curl -fsS --max-time 5 "$base/api/v1/origins/$encoded" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["badges"][0]["id"])')
# Withdrawing the current badge key rotates both keys first: the JWKS then has retired
# keys (valid_until) and a `withdrawn` list, and the demo badge is re-signed.
kid=$(curl -fsS --max-time 5 "$base/.well-known/jwks.json" |
  python3 -c 'import json, sys; print(next(k["kid"] for k in json.load(sys.stdin)["keys"] if k["trustmark_use"] == "badge"))')
"$registry" key withdraw "$kid" --data "$data" >/dev/null
"$registry" badge suspend "$badge" --reason "api fuzz: operator suspension" --data "$data" >/dev/null

# From the temporary directory, so Schemathesis's and Hypothesis's caches go with it and
# no earlier run's failures are replayed. One worker: with two, Hypothesis's source parsing
# in both threads made Python 3.11.7 raise a spurious "AST constructor recursion depth
# mismatch" SystemError (CPython gh-106905, fixed in 3.11.8); one is fast enough.
status=0
(
  cd "$work"
  SCHEMATHESIS_HOOKS="$root/tests/api-fuzz/hooks.py" TRUSTMARK_FUZZ_BADGE="$badge" TRUSTMARK_FUZZ_ORIGIN="$base" \
    "$root/$schemathesis" run "$base/api/v1/openapi.json" \
    --checks "${TRUSTMARK_FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}" \
    --max-examples "${TRUSTMARK_FUZZ_EXAMPLES:-30}" \
    --generation-deterministic \
    --workers 1 \
    --request-timeout 15 \
    --no-color \
    "$@"
) || status=$?
if [ "$status" -ne 0 ]; then
  show_log
fi
exit "$status"
