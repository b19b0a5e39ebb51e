#!/usr/bin/env bash
# Field-office synchronisation: N reports taken at one office pushed to HQ,
# then pulled by a second office of the same area; wall time of each
# `vitalcore sync` and bytes on the wire (what the command reports).
#
#   bench/sync/run.sh [N] [RUNS] [HQ_DATABASE_URL]
#
# HQ is PostgreSQL when a URL is given (a fresh database is made in that
# server for each run: the URL must name a server where `postgres` may
# CREATE DATABASE, e.g. "host=127.0.0.1 user=postgres dbname=postgres"),
# else SQLite. The binary is target/release/vitalcore (VITALCORE=... to
# use another build).
set -euo pipefail
N=${1:-100000}
RUNS=${2:-3}
PGURL=${3:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
V=${VITALCORE:-$ROOT/target/release/vitalcore}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
SERVER=
# shellcheck source=hq.sh
. "$ROOT/bench/sync/hq.sh"
for run in $(seq 1 "$RUNS"); do
  D=$WORK/run$run; mkdir -p "$D"; cd "$D"
  fresh_hq "$run" vc_sync_bench
  "$V" "${HQ[@]}" -q import "$ROOT/data/demo/caf-adm1-ocha.geojson" >/dev/null
  "$V" "${HQ[@]}" sync office add bambari --areas CF32 --out b.cred -q
  "$V" "${HQ[@]}" sync office add kaga --areas CF32 --out k.cred -q
  start_hq
  "$V" --db b.db sync --hq "$URL" --credential b.cred >/dev/null
  "$V" --db k.db sync --hq "$URL" --credential k.cred >/dev/null
  python3 "$ROOT/bench/sync/gen_reports.py" b.db "$N" 1 CF32 "$run"
  s=$(date +%s.%N); up=$("$V" --db b.db sync --hq "$URL"); e=$(date +%s.%N)
  s2=$(date +%s.%N); down=$("$V" --db k.db sync --hq "$URL"); e2=$(date +%s.%N)
  again=$("$V" --db b.db sync --hq "$URL")
  echo "run $run: up $(echo "$e - $s" | bc) s: $up"
  echo "run $run: down $(echo "$e2 - $s2" | bc) s: $down"
  echo "run $run: again: $again"
  stop_hq
done
