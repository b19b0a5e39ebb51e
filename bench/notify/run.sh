#!/usr/bin/env bash
# Latency of notifications under intake load (issue 17): from a critical
# report accepted by the API to the signed webhook received, while the
# intake API carries RATE reports/s (bench/intake/loadgen, open loop; a
# quarter of its reports are critical). The receiver (receiver.py) checks
# every signature and counts repeats; latency = arrival - the body's `at`
# (when the server accepted the report; one machine, one clock).
#
# usage: bench/notify/run.sh [RATE=1000] [SECONDS=15] [CONNECTIONS=64] [RUNS=3]
set -euo pipefail
RATE=${1:-1000}
SECONDS_=${2:-15}
CONNS=${3:-64}
RUNS=${4:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p vitalcore
CARGO_TARGET_DIR="$ROOT/target" cargo build --release -q --manifest-path bench/intake/loadgen/Cargo.toml
V="$ROOT/target/release/vitalcore"
LOAD="$ROOT/target/release/intake-loadgen"
SECRET=bench-notify-secret-0123456789abcdef
for run in $(seq "$RUNS"); do
  WORK=$(mktemp -d)
  DB="$WORK/bench.db"
  "$V" --db "$DB" -q import crates/import/tests/fixtures/caf_adm1_simplified.geojson >/dev/null
  "$V" --db "$DB" -q users keygen --out "$WORK/key"
  echo "a long enough password" | "$V" --db "$DB" -q users add partner1 --role analyst --password-stdin
  echo "a long enough password" | "$V" --db "$DB" -q users add admin1 --role admin --password-stdin
  TOKEN=$("$V" --db "$DB" -q users token partner1 --partner loadgen)
  ADMIN=$("$V" --db "$DB" -q users token admin1 --partner counter)
  python3 bench/notify/receiver.py "$WORK/port" "$SECRET" "$WORK/latency" &
  RECEIVER=$!
  for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  cat > "$WORK/vitalcore.toml" <<TOML
[notify]
min_urgency = "critical"
escalations = false
[[notify.webhook]]
name = "bench"
url = "http://127.0.0.1:$(cat "$WORK/port")/hook"
secret = "$SECRET"
TOML
  chmod 600 "$WORK/vitalcore.toml"
  "$V" --db "$DB" --key-file "$WORK/key" -q serve --addr 127.0.0.1:0 --config "$WORK/vitalcore.toml" > "$WORK/serve.out" &
  SERVER=$!
  for _ in $(seq 600); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
  ADDR=$(sed -n 's#listening on http://\(.*\)/#\1#p' "$WORK/serve.out")
  OUT=$("$LOAD" submit "$ADDR" "$TOKEN" "$RATE" "$SECONDS_" "$CONNS")
  # Wait for the queue to drain: no delivery left queued or sending.
  for _ in $(seq 120); do
    LEFT=$("$V" --db "$DB" -q notify list --limit 100000 --format json | grep -c '"status": "\(queued\|sending\)"' || true)
    [ "$LEFT" = 0 ] && break; sleep 1
  done
  CRITICAL=$(sqlite3 "$DB" "SELECT count(*) FROM reports WHERE urgency = 'critical'" 2>/dev/null || echo "?")
  kill $SERVER; wait $SERVER 2>/dev/null || true
  kill -TERM $RECEIVER; wait $RECEIVER 2>/dev/null || true
  echo "run $run: intake $OUT; critical reports stored $CRITICAL; webhook $(cat "$WORK/latency")"
  rm -rf "$WORK"
done
