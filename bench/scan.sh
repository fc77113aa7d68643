#!/usr/bin/env bash
# The baseline scan against a plain crawler: a generated 2,000-page site on loopback
# (bench/src/scan_site.rs: two language versions, hreflang, JSON-LD products, ~10 KiB
# pages), crawled in the same run by `trustmark scan --concurrency 16 --max-pages 2000`
# (which also parses every page and measures) and by `wget --spider -r`; pages per
# second for both, their ratio, and peak RSS (GNU time). Installs wget and GNU time from
# Debian if missing.
# Usage: bench/scan.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
pages=2000
need=()
command -v wget >/dev/null 2>&1 || need+=(wget)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
cargo build --release -q -p trustmark-cli -p trustmark-bench
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
work=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; rm -rf "$work"' EXIT

# The site runs until its standard input (fd 3 here) closes.
mkfifo "$work/in"
"$bin/scan-site" --pages "$pages" < "$work/in" > "$work/url" &
site_pid=$!
exec 3> "$work/in"
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
start=$(head -n1 "$work/url")
origin=${start%/en/p/0}
stats() { wget -q -O - "$origin/stats"; }

echo "site: $start ($pages pages); CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
printf '%-6s %-8s %8s %8s %10s %12s\n' round tool pages secs pages/s "peak RSS"
ratios=()
for round in $(seq "$rounds"); do
  stats >/dev/null
  /usr/bin/time -f '%e %M' -o "$work/t-scan" \
    "$bin/trustmark" scan "$start" --concurrency 16 --max-pages "$pages" --json > "$work/scan.json" || [ $? -eq 1 ]
  scanned=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pages"])' "$work/scan.json")
  read -r s_secs s_rss < <(tail -n1 "$work/t-scan")
  stats >/dev/null
  rm -rf "$work/wget"
  /usr/bin/time -f '%e %M' -o "$work/t-wget" \
    wget --spider -r -l inf -q -P "$work/wget" "$start" || true
  read -r w_gets w_heads < <(stats)
  read -r w_secs w_rss < <(tail -n1 "$work/t-wget")
  s_rate=$(python3 -c "print(f'{$scanned/$s_secs:.1f}')")
  # wget's pages: the distinct pages it asked for with GET (HEADs are not counted).
  w_rate=$(python3 -c "print(f'{$w_gets/$w_secs:.1f}')")
  printf '%-6s %-8s %8s %8s %10s %9s KiB\n' "$round" scan "$scanned" "$s_secs" "$s_rate" "$s_rss"
  printf '%-6s %-8s %8s %8s %10s %9s KiB   (%s HEAD requests besides)\n' "$round" wget "$w_gets" "$w_secs" "$w_rate" "$w_rss" "$w_heads"
  ratios+=("$(python3 -c "print(f'{$s_rate/$w_rate:.2f}')")")
done
echo "scan/wget page rate per round: ${ratios[*]} (median $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p"))"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("last scan:", json.dumps(r["summary"]), "unvisited", r["crawl"]["unvisited"])' "$work/scan.json"
exec 3>&-
wait "$site_pid" 2>/dev/null || true
