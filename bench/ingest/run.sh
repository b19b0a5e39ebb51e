#!/usr/bin/env bash
# Ingest benchmark: count events and sum fatalities by country, admin1 and
# month on an ACLED-shaped CSV (default 2 million rows), vitalcore against
# Polars (lazy scan_csv, default and streaming engines), DuckDB and pandas,
# interleaved, checking that every tool gives the same table. Records wall
# time (whole process), time inside the job, CPU time (user + system) and
# peak memory, and the load average of the machine before and after.
#
# usage: bench/ingest/run.sh [--rows 2000000] [--runs 5] [--seed 42] [--shape standard|distinct-admin1] [--file CSV] [--bin VITALCORE]
#   --shape distinct-admin1  admin-1 names nearly all distinct (high cardinality, issue 14);
#           bench/ingest/shapes.sh compares both shapes and other --by keys at once
#   --file  benchmark your own ACLED-format file instead of a generated one
#           (the peers parse event_date as YYYY-MM-DD)
#   --bin   use this vitalcore binary instead of building one
set -euo pipefail

ROWS=2000000 RUNS=5 SEED=42 FILE="" BIN="" SHAPE=standard
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --shape) SHAPE="$2"; shift 2 ;;
    --file) FILE="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/out/ingest"
VENV="$ROOT/bench/.venv-ingest"
mkdir -p "$OUT"

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (peak memory)" >&2
  apt-get install -y time >/dev/null
fi

if [ -z "$BIN" ]; then
  echo "building vitalcore (release)" >&2
  (cd "$ROOT" && cargo build --release -q -p vitalcore)
  BIN="$ROOT/target/release/vitalcore"
fi

if [ -z "$FILE" ]; then
  FILE="$ROOT/bench/out/acled-${ROWS}-seed${SEED}.csv"
  [ "$SHAPE" = standard ] || FILE="$ROOT/bench/out/acled-${ROWS}-seed${SEED}-${SHAPE}.csv"
  if [ ! -s "$FILE" ]; then
    echo "generating $FILE" >&2
    "$BIN" generate acled --rows "$ROWS" --seed "$SEED" --shape "$SHAPE" --out "$FILE.tmp"
    mv "$FILE.tmp" "$FILE"
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV (polars, duckdb, pandas from PyPI)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q polars duckdb pandas
fi
PY="$VENV/bin/python"

TIMES="$OUT/times.tsv"
printf 'run\ttool\twall_s\tmax_rss_kb\tjob_s\tcpu_s\n' > "$TIMES"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
TOOLS="vitalcore polars polars-streaming duckdb pandas"

# One untimed warm-up of each tool fills the page cache for everyone alike.
for run in $(seq 0 "$RUNS"); do
  for tool in $TOOLS; do
    result="$OUT/result-$tool.csv"
    stats="$OUT/time-$tool.txt"
    if [ "$tool" = vitalcore ]; then
      /usr/bin/time -f '%e %M %U %S' -o "$stats" "$BIN" aggregate "$FILE" --out "$result" --quiet
      job=""
    else
      job=$(/usr/bin/time -f '%e %M %U %S' -o "$stats" "$PY" "$ROOT/bench/ingest/peers.py" "$tool" "$FILE" "$result")
    fi
    read -r wall rss user sys < "$stats"
    [ -z "$job" ] && job="$wall"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    if [ "$run" -gt 0 ]; then
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" "$wall" "$rss" "$job" "$cpu" >> "$TIMES"
    fi
    echo "run $run $tool: ${wall}s wall, ${job}s job, ${cpu}s CPU, $((rss / 1024)) MB peak" >&2
  done
done

"$PY" "$ROOT/bench/ingest/report.py" --times "$TIMES" --results "$OUT" --file "$FILE" \
  --command "bench/ingest/run.sh --rows $ROWS --runs $RUNS --seed $SEED --shape $SHAPE" \
  --load "before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)" \
  --versions "$("$PY" -c 'import polars, duckdb, pandas; print(f"polars {polars.__version__}, duckdb {duckdb.__version__}, pandas {pandas.__version__}")')" \
  --write "$ROOT/bench/ingest/RESULTS.md"
