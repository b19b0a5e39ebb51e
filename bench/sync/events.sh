#!/usr/bin/env bash
# Events down: N events imported at HQ, all in Ouaka (CF43), pulled by a
# field office of that area from an empty database; then a second sync that
# must move nothing. Prints the wall time of HQ's import and of the office's
# `vitalcore sync`, the bytes it reports and the events the office holds.
#
#   bench/sync/events.sh [N] [RUNS] [HQ_DATABASE_URL] [BATCH]
#
# HQ is PostgreSQL when a URL is given (a fresh database per run, made in
# that server: e.g. "host=127.0.0.1 user=postgres dbname=postgres"), else
# SQLite. BATCH is the office's `sync --batch` (change-log entries per
# pull). The events come from `vitalcore generate acled` moved into Ouaka by
# to_ouaka.py. The binary is target/release/vitalcore (VITALCORE=... to use
# another build).
set -euo pipefail
N=${1:-1000000}
RUNS=${2:-3}
PGURL=${3:-}
BATCH=${4:-5000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
V=${VITALCORE:-$ROOT/target/release/vitalcore}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
SERVER=
# shellcheck source=hq.sh
. "$ROOT/bench/sync/hq.sh"
"$V" generate acled --rows "$N" --seed 16 | python3 "$ROOT/bench/sync/to_ouaka.py" > "$WORK/events.csv"
for run in $(seq 1 "$RUNS"); do
  D=$WORK/run$run; mkdir -p "$D"; cd "$D"
  fresh_hq "$run" vc_sync_events
  "$V" "${HQ[@]}" -q import "$ROOT/data/demo/caf-adm1-ocha.geojson" >/dev/null
  s=$(date +%s.%N); "$V" "${HQ[@]}" -q import "$WORK/events.csv" >/dev/null; e=$(date +%s.%N)
  echo "run $run: HQ import of $N events $(echo "$e - $s" | bc) s"
  "$V" "${HQ[@]}" sync office add bambari --areas CF43 --out b.cred -q
  start_hq
  s=$(date +%s.%N)
  down=$("$V" --db b.db sync --hq "$URL" --credential b.cred --batch "$BATCH")
  e=$(date +%s.%N)
  echo "run $run: down (batch $BATCH) $(echo "$e - $s" | bc) s: $down"
  echo "run $run: office holds $("$V" --db b.db status | sed -n 's/^events: \([0-9]*\).*/\1/p') events"
  echo "run $run: again: $("$V" --db b.db sync --hq "$URL" --batch "$BATCH")"
  stop_hq
done
