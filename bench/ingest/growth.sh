#!/usr/bin/env bash
# Growth of time and peak memory with file size and with the number of
# groups (issue 14): `vitalcore aggregate` and `vitalcore import` (SQLite)
# on the standard generated shape at 0.5M, 1M, 2M, 4M rows, and `aggregate
# --by country,admin1` on 4M rows with 10k, 100k, 1M, 4M distinct
# country/admin-1 pairs (`generate acled --shape distinct-admin1
# --admin1-names N`). One run per point unless RUNS is set (median).
#
# usage: bench/ingest/growth.sh [--bin VITALCORE] [--runs 1] [--rows "500000 1000000 2000000 4000000"]
#        [--groups "10000 100000 1000000 4000000"] [--group-rows 4000000]
# Big generated files are deleted when done.
set -euo pipefail
BIN="" RUNS=1 ROWS="500000 1000000 2000000 4000000" GROUP_COUNTS="10000 100000 1000000 4000000" GROUP_ROWS=4000000
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --rows) ROWS="$2"; shift 2 ;;
    --groups) GROUP_COUNTS="$2"; shift 2 ;;
    --group-rows) GROUP_ROWS="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/out/growth"
mkdir -p "$OUT"
if [ -z "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -q -p vitalcore)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/vitalcore"
fi
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# runs "$@" RUNS times (BEFORE is run first each time); prints "median_s median_MB"
measure() {
  local walls="" rss=""
  for _ in $(seq 1 "$RUNS"); do
    eval "${BEFORE:-true}"
    /usr/bin/time -f '%e %M' -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/stderr.txt" || { cat "$OUT/stderr.txt" >&2; exit 1; }
    read -r w m < "$OUT/time.txt"; walls="$walls $w"; rss="$rss $m"
  done
  echo "$(echo $walls | tr ' ' '\n' | median) $(echo $rss | tr ' ' '\n' | median | awk '{ printf "%.0f", $1 / 1024 }')"
}
DB="$OUT/g.db"
echo "| rows | aggregate s | aggregate MB | import (SQLite) s | import rows/s | import MB |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $ROWS; do
  FILE="$OUT/acled-$n.csv"
  "$BIN" generate acled --rows "$n" --seed 42 --out "$FILE"
  a=$(BEFORE="" measure "$BIN" aggregate "$FILE" --out "$OUT/a.csv" --quiet)
  i=$(BEFORE="rm -f $DB $DB-wal $DB-shm" measure "$BIN" --db "$DB" --quiet import "$FILE")
  echo "| $n | ${a% *} | ${a#* } | ${i% *} | $(awk -v r="$n" -v w="${i% *}" 'BEGIN { printf "%.0f", r / w }') | ${i#* } |"
  rm -f "$FILE" "$DB" "$DB-wal" "$DB-shm"
done
echo
echo "| distinct country/admin-1 pairs | rows | aggregate --by country,admin1 s | MB | --by country,admin1,month s | MB |"
echo "|---:|---:|---:|---:|---:|---:|"
for g in $GROUP_COUNTS; do
  FILE="$OUT/acled-$GROUP_ROWS-g$g.csv"
  "$BIN" generate acled --rows "$GROUP_ROWS" --seed 42 --shape distinct-admin1 --admin1-names "$g" --out "$FILE"
  a=$(BEFORE="" measure "$BIN" aggregate "$FILE" --by country,admin1 --out "$OUT/a.csv" --quiet)
  groups=$(($(wc -l < "$OUT/a.csv") - 1))
  b=$(BEFORE="" measure "$BIN" aggregate "$FILE" --by country,admin1,month --out "$OUT/b.csv" --quiet)
  echo "| $groups | $GROUP_ROWS | ${a% *} | ${a#* } | ${b% *} | ${b#* } |"
  rm -f "$FILE"
done
