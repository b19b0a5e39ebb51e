#!/usr/bin/env bash
# Aggregate and import at scale (issue 14): vitalcore aggregate against
# Polars lazy on the same query and file, for the standard generated shape
# and the high-cardinality one (`generate acled --shape distinct-admin1`:
# about one admin-1 name per row), then `vitalcore import` into a fresh
# SQLite file. Wall time and peak memory (GNU time), median of RUNS runs.
# Tools alternate run by run; results are checked to be the same table.
#
# usage: bench/ingest/shapes.sh [--rows 2000000] [--runs 3] [--bin VITALCORE]
#        [--shapes "standard distinct-admin1"] [--by "country,admin1,month country,month"] [--no-import]
# Writes a Markdown table on standard output; files go to bench/out/shapes.
set -euo pipefail
ROWS=2000000 RUNS=3 BIN="" SHAPES="standard distinct-admin1" BYS="country,admin1,month country,month" IMPORT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --shapes) SHAPES="$2"; shift 2 ;;
    --by) BYS="$2"; shift 2 ;;
    --no-import) IMPORT=0; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/out/shapes"
VENV="$ROOT/bench/.venv-ingest"
mkdir -p "$OUT"
if [ -z "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -q -p vitalcore)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/vitalcore"
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q polars
fi
PY="$VENV/bin/python"

# median of the numbers on standard input
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# runs a command RUNS times; prints "median_wall_s median_peak_MB"
measure() {
  local walls="" rss=""
  for _ in $(seq 1 "$RUNS"); do
    "$@" >/dev/null 2>"$OUT/stderr.txt" || { cat "$OUT/stderr.txt" >&2; exit 1; }
    read -r w m < "$OUT/time.txt"
    walls="$walls $w"; rss="$rss $m"
  done
  echo "$(echo $walls | tr ' ' '\n' | median) $(echo $rss | tr ' ' '\n' | median | awk '{ printf "%.0f", $1 / 1024 }')"
}
T=(/usr/bin/time -f '%e %M' -o "$OUT/time.txt")

echo "| shape | rows | --by | groups | vitalcore aggregate s | MB | Polars lazy s | MB |"
echo "|---|---:|---|---:|---:|---:|---:|---:|"
for shape in $SHAPES; do
  FILE="$OUT/acled-$ROWS-$shape.csv"
  [ -s "$FILE" ] || "$BIN" generate acled --rows "$ROWS" --seed 42 --shape "$shape" --out "$FILE"
  for by in $BYS; do
    v=$(measure "${T[@]}" "$BIN" aggregate "$FILE" --by "$by" --out "$OUT/v.csv" --quiet)
    p=$(measure "${T[@]}" "$PY" "$ROOT/bench/ingest/peers.py" polars "$FILE" "$OUT/p.csv" "$by")
    cmp -s "$OUT/v.csv" "$OUT/p.csv" || echo "WARNING: vitalcore and Polars tables differ for $shape --by $by" >&2
    groups=$(($(wc -l < "$OUT/v.csv") - 1))
    echo "| $shape | $ROWS | $by | $groups | ${v% *} | ${v#* } | ${p% *} | ${p#* } |"
  done
done
if [ "$IMPORT" = 1 ]; then
  echo
  echo "| shape | rows | vitalcore import into SQLite s | rows/s | MB |"
  echo "|---|---:|---:|---:|---:|"
  for shape in $SHAPES; do
    FILE="$OUT/acled-$ROWS-$shape.csv"
    walls="" rss=""
    for _ in $(seq 1 "$RUNS"); do
      rm -f "$OUT/i.db" "$OUT/i.db-wal" "$OUT/i.db-shm"
      "${T[@]}" "$BIN" --db "$OUT/i.db" --quiet import "$FILE" >/dev/null
      read -r w m < "$OUT/time.txt"; walls="$walls $w"; rss="$rss $m"
    done
    w=$(echo $walls | tr ' ' '\n' | median); m=$(echo $rss | tr ' ' '\n' | median | awk '{ printf "%.0f", $1 / 1024 }')
    echo "| $shape | $ROWS | $w | $(awk -v r="$ROWS" -v w="$w" 'BEGIN { printf "%.0f", r / w }') | $m |"
    rm -f "$OUT/i.db" "$OUT/i.db-wal" "$OUT/i.db-shm"
  done
fi
