#!/usr/bin/env bash
# `vitalcore mandate import` of the whole Security Council corpus (1,538
# resolutions) into a fresh SQLite file and, when VITALCORE_PG_URL is set, a
# fresh PostgreSQL schema, RUNS times each; then importing again (nothing
# changes) and `mandate gaps --mission UNMIL --month 2014-08` read from the
# database and from the folder. Prints every run (wall s, CPU s) and the medians.
#
# usage: bench/mandate/store.sh [DATA_DIR] [RUNS] [debug|release]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DATA_DIR="$(realpath "${1:-../shared/datasets/unsc-resolutions-akn}")"
RUNS="${2:-3}"
PROFILE="${3:-release}"
if [ "$PROFILE" = release ]; then cargo build --release -q -p vitalcore; else cargo build -q -p vitalcore; fi
DIR=$([ "$PROFILE" = release ] && echo release || echo debug)
VC="${CARGO_TARGET_DIR:-$ROOT/target}/$DIR/vitalcore"
OUT="$(mktemp -d)"
SCHEMA="vc_bench_mandates_$$"
cleanup() {
  rm -rf "$OUT"
  if [ -n "${VITALCORE_PG_URL:-}" ]; then psql "$VITALCORE_PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" 2>/dev/null || true; fi
}
trap cleanup EXIT
EBOLA="$ROOT/crates/cli/tests/fixtures/ebola_2014_synthetic.csv"
run() { # label, command...
  local label="$1"; shift
  /usr/bin/time -f "%e %U %S" -o "$OUT/t" "$@" > /dev/null 2>&1
  read -r wall user sys < "$OUT/t"
  printf '%-28s %6.2f s wall %6.2f s CPU\n' "$label" "$wall" "$(echo "$user + $sys" | bc)"
  echo "$label $wall" >> "$OUT/all"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $PROFILE build"
for i in $(seq "$RUNS"); do
  rm -f "$OUT"/s.db*
  run "sqlite import" "$VC" -q --db "$OUT/s.db" mandate import "$DATA_DIR"
  if [ -n "${VITALCORE_PG_URL:-}" ]; then
    psql "$VITALCORE_PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA" 2>/dev/null
    run "postgres import" "$VC" -q --database-url "$VITALCORE_PG_URL options='-c search_path=$SCHEMA'" mandate import "$DATA_DIR"
  fi
done
"$VC" -q --db "$OUT/s.db" import "$EBOLA" > /dev/null
[ -n "${VITALCORE_PG_URL:-}" ] && "$VC" -q --database-url "$VITALCORE_PG_URL options='-c search_path=$SCHEMA'" import "$EBOLA" > /dev/null
for i in $(seq "$RUNS"); do
  run "sqlite import again" "$VC" -q --db "$OUT/s.db" mandate import "$DATA_DIR"
  run "sqlite gaps (database)" "$VC" -q --db "$OUT/s.db" mandate gaps --mission UNMIL --month 2014-08
  run "gaps (folder)" "$VC" -q --db "$OUT/s.db" mandate gaps --mission UNMIL --month 2014-08 "$DATA_DIR"
  if [ -n "${VITALCORE_PG_URL:-}" ]; then
    run "postgres import again" "$VC" -q --database-url "$VITALCORE_PG_URL options='-c search_path=$SCHEMA'" mandate import "$DATA_DIR"
    run "postgres gaps (database)" "$VC" -q --database-url "$VITALCORE_PG_URL options='-c search_path=$SCHEMA'" mandate gaps --mission UNMIL --month 2014-08
  fi
done
echo "medians (wall s):"
sort "$OUT/all" | awk '{k=$0; sub(/ [^ ]*$/, "", k); v[k]=v[k] " " $NF} END {for (k in v) print k ":" v[k]}' | sort | while IFS=: read -r k vals; do
  printf '  %-28s %s\n' "$k" "$(echo "$vals" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
