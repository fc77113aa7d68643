#!/usr/bin/env bash
# Offline bulk verification: 100,000 badge tokens through `trustmark verify-bulk --bundle`
# on every core, against the single-core raw ed25519-dalek verify_strict rate measured in
# the same run (bench/src/bulk_verify.rs); peak RSS of 10,000 and 100,000 lines.
# Usage: bench/bulk.sh [ROUNDS]   (installs GNU time from Debian if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release -q -p trustmark-cli -p trustmark-bench
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
"$bin/bulk-verify" --trustmark "$bin/trustmark" --rounds "$rounds"
