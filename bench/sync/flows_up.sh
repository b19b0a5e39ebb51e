#!/usr/bin/env bash
# What flows up beside reports: N reports taken at one office and pushed to
# HQ, then for each an acknowledgement, its feedback SMS queued, exported and
# sent, and a tag correction (5 records per report), pushed in a second
# sync; wall time and bytes on the wire of that second sync, and a third
# that must move nothing.
#
#   bench/sync/flows_up.sh [N] [RUNS] [HQ_DATABASE_URL]
#
# HQ as in run.sh (PostgreSQL when a URL is given, else SQLite); the binary
# is target/release/vitalcore (VITALCORE=... to use another build).
set -euo pipefail
N=${1:-10000}
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
  fresh_hq "$run" vc_flows_bench
  "$V" "${HQ[@]}" -q import "$ROOT/data/demo/caf-adm1-ocha.geojson" >/dev/null
  "$V" "${HQ[@]}" sync office add bambari --areas CF32 --out b.cred -q
  start_hq
  "$V" --db b.db sync --hq "$URL" --credential b.cred >/dev/null
  python3 "$ROOT/bench/sync/gen_reports.py" b.db "$N" 1 CF32 "$run"
  "$V" --db b.db sync --hq "$URL" >/dev/null
  python3 "$ROOT/bench/sync/gen_flows_up.py" b.db
  s=$(date +%s.%N); up=$("$V" --db b.db sync --hq "$URL"); e=$(date +%s.%N)
  again=$("$V" --db b.db sync --hq "$URL")
  echo "run $run: flows up $(echo "$e - $s" | bc) s: $up"
  echo "run $run: again: $again"
  stop_hq
done
