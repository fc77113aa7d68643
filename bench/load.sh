#!/usr/bin/env bash
# Registry load test on loopback, with baselines measured in the same run:
#   GET /statuslists/1 and GET /b/{id} (wrk), against GET /healthz (the cheapest route);
#   POST /api/v1/badges with 16 clients (bench/src/issue_load.rs), against the disk's own
#   fdatasync rate.
# Usage: bench/load.sh [SECONDS]   (installs wrk from Debian if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -q -p trustmark-registry -p trustmark-cli -p trustmark-bench
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

serve() {
  RUST_LOG=warn "$bin/trustmark-registry" serve --listen "127.0.0.1:$port" --data "$work/data" & pid=$!
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "registry did not start" >&2; exit 1
}

"$bin/trustmark" keygen -o "$work/auditor.jwk" > "$work/auditor.pub.jwk"
serve; kill -TERM "$pid"; wait "$pid" || true; pid=
"$bin/trustmark-registry" auditor add --id load-lab --name "Load Lab" --key "$work/auditor.pub.jwk" --data "$work/data" >/dev/null
serve

"$bin/issue-load" --url "$base" --key "$work/auditor.jwk" --auditor load-lab --data "$work" --clients 1 --seconds 1 >/dev/null
id=$(curl -fs "$base/api/v1/origins/https%3A%2F%2Fwww.supplier.example" | python3 -c 'import json,sys; print(json.load(sys.stdin)["badges"][0]["id"])')

rate() { wrk -t1 -c64 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
echo "machine: $(nproc) cores; server and load generator share them"
health=$(rate "$base/healthz")
lists=$(rate "$base/statuslists/1")
page=$(rate "$base/b/$id")
printf 'GET /healthz (baseline)   : %10.0f req/s\n' "$health"
printf 'GET /statuslists/1        : %10.0f req/s  (%.2f x baseline; target >= 20000)\n' "$lists" "$(echo "$lists / $health" | bc -l)"
printf 'GET /b/{id}               : %10.0f req/s  (%.2f x baseline; target >= 2000)\n' "$page" "$(echo "$page / $health" | bc -l)"
"$bin/issue-load" --url "$base" --key "$work/auditor.jwk" --auditor load-lab --data "$work" --clients 16 --seconds "$secs"
