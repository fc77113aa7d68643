#!/usr/bin/env bash
# Fuzz one decoder, seeded from the golden vectors.
#   fuzz/run.sh badge_token|badge_claims|status_list|jwks|log_note [SECONDS]
# Needs `cargo install cargo-fuzz`. On a stable toolchain this runs without a sanitizer
# (RUSTC_BOOTSTRAP lets cargo-fuzz pass its flags); with nightly, drop both overrides to
# get AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?target: badge_token, badge_claims, status_list, jwks or log_note}
seconds=${2:-60}
corpus=corpus/$target
mkdir -p "$corpus"
python3 - "$target" "$corpus" <<'PY'
import json, pathlib, sys, hashlib
target, corpus = sys.argv[1], pathlib.Path(sys.argv[2])
root = pathlib.Path("../testdata/vectors")
if target == "badge_token":
    seeds, floor = [c["token"].encode() for c in json.load(open(root / "cases.json"))["cases"]], 86
elif target == "badge_claims":
    # The payloads of the badge vectors (base64url of the middle part).
    import base64
    seeds = []
    for c in json.load(open(root / "cases.json"))["cases"]:
        parts = c["token"].split(".")
        if len(parts) == 3:
            try:
                seeds.append(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            except ValueError:
                pass
    floor = 60
elif target == "status_list":
    seeds, floor = [p.read_bytes().strip() for p in (root / "statuslists").glob("*.jwt")], 9
elif target == "log_note":
    log = root / "log"
    notes = json.load(open(log / "signed-note.json"))
    checkpoints = json.load(open(log / "checkpoint.json"))
    seeds = [c["note"].encode() for c in notes["notes"]]
    seeds += [c["note"].encode() for c in notes["signatures"]]
    seeds += [k.encode() for k in notes["keys"].values()]
    seeds += [c["key"].encode() for c in notes["bad_keys"]]
    seeds += [c["text"].encode() for c in checkpoints["valid"] + checkpoints["invalid"]]
    example = json.load(open(log / "trustmark-checkpoint.json"))
    seeds += [example["note"].encode(), example["vkey"].encode()]
    seeds += [p.encode() for p in ("tile/0/x001/x234/067.p/5", "tile/7/255", "tile/entries/000.p/1",
                                   "tile/entries/x009/x223/x372/x036/x854/x775/807.p/255")]
    seeds += [bytes([0, 0]), bytes([0, 1, 0x61, 0, 2, 0x62, 0x63]), bytes([0, 1, 0x78]) * 256]
    floor = 61
else:
    seeds, floor = [p.read_bytes() for p in (root / "jwks").glob("*.json")], 3
# A run from a truncated seed set would still "pass", having explored less.
if len(seeds) < floor:
    sys.exit(f"only {len(seeds)} seeds for {target}, expected at least {floor}")
for s in seeds:
    (corpus / hashlib.sha256(s).hexdigest()[:16]).write_bytes(s)
print(f"seeded {len(seeds)} inputs into {corpus}")
PY
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" "$corpus" -- -max_total_time="$seconds" -max_len=65536
