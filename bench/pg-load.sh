#!/usr/bin/env bash
# Durable issuances per second on PostgreSQL: 16 clients over two registry processes on
# one throwaway cluster, beside pgbench's TPC-B rate on the same cluster (the database's
# own ceiling here) and the embedded store with one process, all in the same run.
# Usage: bench/pg-load.sh [SECONDS]   (needs the PostgreSQL server binaries and pgbench)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
cargo build --release -q -p trustmark-registry -p trustmark-cli -p trustmark-bench
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ./scripts/pg-test-cluster stop "$work/cluster"
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 200); do curl -fs "$1/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "registry at $1 did not start" >&2; exit 1
}

cluster=$(./scripts/pg-test-cluster start "$work/cluster")
pgbin=$(dirname "$(command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n 1)")
pgb=$(command -v pgbench || echo "$pgbin/pgbench")
psql_=$(command -v psql || echo "$pgbin/psql")
db() { echo "${cluster%/*}/$1"; }
"$psql_" -q "$cluster" -c "CREATE DATABASE bench" -c "CREATE DATABASE trustmark"

echo "machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')); server, database and load generator share them"
"$pgb" -q -i -s 16 "$(db bench)" >/dev/null 2>&1
tps=$("$pgb" -c 16 -j 2 -T "$secs" "$(db bench)" 2>/dev/null | awk '/^tps/ {print $3; exit}')
printf 'pgbench TPC-B, 16 clients : %10.0f transactions/s (the database ceiling)\n' "$tps"

"$bin/trustmark" keygen -o "$work/auditor.jwk" > "$work/auditor.pub.jwk"
store=$(db trustmark)
pa=$(free_port); pb=$(free_port)
a="http://127.0.0.1:$pa"; b="http://127.0.0.1:$pb"
RUST_LOG=warn "$bin/trustmark-registry" serve --listen "127.0.0.1:$pa" --public-url "$a" --store "$store" --data "$work/a" & pids+=($!)
wait_up "$a"
RUST_LOG=warn "$bin/trustmark-registry" serve --listen "127.0.0.1:$pb" --public-url "$a" --store "$store" --data "$work/b" & pids+=($!)
wait_up "$b"
"$bin/trustmark-registry" auditor add --id load-lab --name "Load Lab" --key "$work/auditor.pub.jwk" --store "$store" >/dev/null
echo "== PostgreSQL store, two processes"
pg_out=$("$bin/issue-load" --url "$a" --url "$b" --key "$work/auditor.jwk" --auditor load-lab --clients 16 --seconds "$secs")
echo "$pg_out"
for p in "${pids[@]}"; do kill "$p"; done
wait 2>/dev/null || true
pids=()

port=$(free_port); base="http://127.0.0.1:$port"
serve_embedded() { RUST_LOG=warn "$bin/trustmark-registry" serve --listen "127.0.0.1:$port" --data "$work/embedded" & pids+=($!); wait_up "$base"; }
serve_embedded; kill "${pids[0]}"; wait 2>/dev/null || true; pids=()
"$bin/trustmark-registry" auditor add --id load-lab --name "Load Lab" --key "$work/auditor.pub.jwk" --data "$work/embedded" >/dev/null
serve_embedded
echo "== embedded store, one process"
emb_out=$("$bin/issue-load" --url "$base" --key "$work/auditor.jwk" --auditor load-lab --data "$work" --clients 16 --seconds "$secs")
echo "$emb_out"

rate() { echo "$1" | awk '/throughput/ {print $3}'; }
pg=$(rate "$pg_out"); emb=$(rate "$emb_out")
printf '\nPostgreSQL, 2 processes : %8.0f issuances/s = %.2f x pgbench TPC-B, %.2f x the embedded store (target >= 1000/s, p99 < 100 ms)\n' \
  "$pg" "$(echo "$pg / $tps" | bc -l)" "$(echo "$pg / $emb" | bc -l)"
