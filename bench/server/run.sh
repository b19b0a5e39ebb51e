#!/usr/bin/env bash
# Server benchmark: latency of the analysis endpoints the web page calls
# (crates/server/static/app.js: the map on load, an area's profile on a
# click) and of the assessment table, over a store of ROWS synthetic events,
# on SQLite and on PostgreSQL; sequential requests and CLIENTS concurrent
# clients; peak RSS of the server in each phase; load average before each.
#
#   bench/server/run.sh                          # 1M events, 3 runs, both backends
#   ROWS=100000 RUNS=5 BACKENDS=sqlite bench/server/run.sh
#   BINS="before=/path/vitalcore after=target/release/vitalcore" bench/server/run.sh
#
# BINS: label=binary pairs, run alternately over the same stores (default:
# this tree's release build, labelled "current"). Each run starts the server
# afresh: "cold" is the first map request after start; then SEQ requests of
# each endpoint one after another; then CLIENTS clients each sending CONC
# requests (map and profile alternately, as people opening the page and
# clicking an area); "resident" is the server's RSS after all that. Stores
# are filled once per backend by
# crates/server/examples/fill_store.rs (FILL: a prebuilt filler).
# PostgreSQL: a database of its own, PG_DB (default vc_bench_server) on
# PG_ADMIN (default host=127.0.0.1 user=postgres dbname=test), dropped at the
# end. Results: bench/out/server-*.tsv and a summary on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-8}
SEQ=${SEQ:-3}
CONC=${CONC:-4}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_ADMIN=${PG_ADMIN:-host=127.0.0.1 user=postgres dbname=test}
PG_DB=${PG_DB:-vc_bench_server}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

if [ -z "${BINS:-}" ]; then
  cargo build --release -q -p vitalcore
  BINS="current=$TARGET/release/vitalcore"
fi
if [ -z "${FILL:-}" ]; then
  cargo build --release -q -p vitalcore-server --example fill_store
  FILL="$TARGET/release/examples/fill_store"
fi
CARGO_TARGET_DIR="$TARGET" cargo build --release -q --manifest-path bench/server/loadgen/Cargo.toml
LOAD="$TARGET/release/server-loadgen"

WORK=$(mktemp -d)
SERVER=""
PG_CREATED=0
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  [ "$PG_CREATED" = 1 ] && psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p bench/out
OUT="bench/out/server-$(date +%Y%m%d-%H%M%S).tsv"
printf 'backend\tbin\trun\tphase\tpath\tload1\trequests\tfailed\twall_s\tmedian_ms\tp95_ms\tmax_ms\tbytes\tpeak_rss_mb\n' > "$OUT"

load1() { cut -d' ' -f1 /proc/loadavg; }
# Peak RSS of the server since the last reset (clear_refs 5 resets VmHWM).
reset_peak() { echo 5 > "/proc/$SERVER/clear_refs"; }
peak_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status"; }

start_server() { # BIN STORE-ARGS...
  local bin=$1; shift
  "$bin" "$@" -q serve --addr 127.0.0.1:0 > "$WORK/serve.out" 2> "$WORK/serve.err" &
  SERVER=$!
  for _ in $(seq 600); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
  ADDR=$(sed -n 's#listening on http://\(.*\)/#\1#p' "$WORK/serve.out")
  [ -n "$ADDR" ] || { cat "$WORK/serve.err"; exit 1; }
}

stop_server() {
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}

# Appends the loadgen lines of one phase to the results.
record() { # BACKEND LABEL RUN PHASE LOAD1 PEAK < loadgen output
  while IFS=$'\t' read -r path requests failed wall median p95 max bytes; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$path" "$5" \
      "${requests#* }" "${failed#* }" "${wall#* }" "${median#* }" "${p95#* }" "${max#* }" "${bytes#* }" "$6" >> "$OUT"
  done
}

measure() { # BACKEND LABEL RUN BIN STORE-ARGS...
  local backend=$1 label=$2 run=$3 bin=$4; shift 4
  start_server "$bin" "$@"
  local map="/api/v1/boundaries?unit=admin1" l out
  reset_peak; l=$(load1)
  out=$("$LOAD" run "$ADDR" 1 1 "$map"); echo "$out" | record "$backend" "$label" "$run" cold "$l" "$(peak_mb)"
  "$LOAD" get "$ADDR" "$map" > "$WORK/map.json"
  local from to id
  from=$(jq -r .from "$WORK/map.json"); to=$(jq -r .to "$WORK/map.json")
  id=$(jq -r '[.features[].properties] | max_by(.events) | .id' "$WORK/map.json")
  local range="unit=admin1&from=$from&to=$to"
  local profile="/api/v1/areas/$id/profile?$range" table="/api/v1/assessment?$range"
  reset_peak; l=$(load1)
  out=$(for p in "$map&from=$from&to=$to" "$profile" "$table"; do "$LOAD" run "$ADDR" 1 "$SEQ" "$p"; done)
  echo "$out" | record "$backend" "$label" "$run" sequential "$l" "$(peak_mb)"
  reset_peak; l=$(load1)
  out=$("$LOAD" run "$ADDR" "$CLIENTS" "$CONC" "$map&from=$from&to=$to" "$profile")
  echo "$out" | record "$backend" "$label" "$run" "concurrent-$CLIENTS" "$l" "$(peak_mb)"
  # What the server keeps between requests (the snapshot, caches, allocator).
  printf '%s\t%s\t%s\tresident\t-\t%s\t-\t-\t-\t-\t-\t-\t-\t%s\n' "$backend" "$label" "$run" "$(load1)" \
    "$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")" >> "$OUT"
  echo "  $backend $label run $run done (load $(load1))" >&2
  stop_server
}

for backend in $BACKENDS; do
  case $backend in
    sqlite)
      DB="$WORK/bench.db"
      "$FILL" --rows "$ROWS" --sqlite "$DB"
      STORE=(--db "$DB")
      ;;
    postgres)
      psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
      psql "$PG_ADMIN" -q -c "CREATE DATABASE $PG_DB" >/dev/null
      PG_CREATED=1
      URL="${PG_ADMIN/dbname=test/dbname=$PG_DB}"
      "$FILL" --rows "$ROWS" --postgres "$URL"
      psql "$URL" -q -c "VACUUM ANALYZE" >/dev/null
      STORE=(--database-url "$URL")
      ;;
    *) echo "unknown backend $backend"; exit 1 ;;
  esac
  for run in $(seq "$RUNS"); do
    for pair in $BINS; do
      measure "$backend" "${pair%%=*}" "$run" "${pair#*=}" "${STORE[@]}"
    done
  done
  [ "$backend" = postgres ] && { psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null; PG_CREATED=0; }
done

echo "results: $OUT ($ROWS events, $RUNS runs, $CLIENTS clients)"
python3 "$ROOT/bench/server/summary.py" "$OUT"
