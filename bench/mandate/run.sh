#!/usr/bin/env bash
# `vitalcore mandate tag` over the whole Security Council corpus (1,538
# resolutions, Akoma Ntoso XML) side by side with a Python peer doing the
# same job (lxml + regular expressions, same framework tables), interleaved
# RUNS times; prints every run and the medians (wall, CPU = user + sys, peak
# RSS) and how far the two tools' tags agree.
#
# usage: bench/mandate/run.sh [DATA_DIR] [RUNS]
#        (default ../shared/datasets/unsc-resolutions-akn relative to the repository root, 5 runs)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DATA_DIR="$(realpath "${1:-../shared/datasets/unsc-resolutions-akn}")"
RUNS="${2:-5}"
VENV="$ROOT/bench/.venv-mandate"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check lxml
cargo build --release -q -p vitalcore
VC="${CARGO_TARGET_DIR:-$ROOT/target}/release/vitalcore"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
measure() { # name, command...
  local name="$1"; shift
  /usr/bin/time -f "$name %e %U %S %M" -o "$OUT/t" "$@" > /dev/null 2>&1
  cat "$OUT/t" >> "$OUT/times"
  cat "$OUT/t"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tool wall_s user_s sys_s max_rss_kb"
for i in $(seq "$RUNS"); do
  measure vitalcore "$VC" -q mandate tag "$DATA_DIR" --format json --out "$OUT/vc.json"
  measure python-lxml "$VENV/bin/python" "$ROOT/bench/mandate/peer.py" "$DATA_DIR" \
    "$ROOT/crates/framework/data/mandates.toml" "$OUT/peer.tsv"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT/times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for tool in ("vitalcore", "python-lxml"):
    r = [x for x in rows if x[0] == tool]
    wall = statistics.median(float(x[1]) for x in r)
    cpu = statistics.median(float(x[2]) + float(x[3]) for x in r)
    rss = statistics.median(int(x[4]) for x in r) / 1024
    print(f"median {tool}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MB ({len(r)} runs)")
PY
"$VENV/bin/python" "$ROOT/bench/mandate/compare.py" "$OUT/vc.json" "$OUT/peer.tsv"
