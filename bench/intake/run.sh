#!/usr/bin/env bash
# Load benchmark of the report API: a second process (bench/intake/loadgen,
# std-only Rust, open loop) posts reports to `vitalcore serve` on loopback at
# a fixed rate, then checks count in = count stored, also after a restart
# (each report is answered only after its SQLite commit is on disk:
# synchronous=FULL, one fsync per group of reports committed together).
#
# usage: bench/intake/run.sh [RATE=1100] [SECONDS=15] [CONNECTIONS=64] [RUNS=3]
set -euo pipefail
RATE=${1:-1100}
SECONDS_=${2:-15}
CONNS=${3:-64}
RUNS=${4:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# SKIP_BUILD=1 reuses target/release/vitalcore as built.
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p vitalcore
CARGO_TARGET_DIR="$ROOT/target" cargo build --release -q --manifest-path bench/intake/loadgen/Cargo.toml
V="$ROOT/target/release/vitalcore"
LOAD="$ROOT/target/release/intake-loadgen"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB="$WORK/bench.db"
"$V" --db "$DB" -q import crates/import/tests/fixtures/caf_adm1_simplified.geojson >/dev/null
"$V" --db "$DB" -q users keygen --out "$WORK/key"
echo "a long enough password" | "$V" --db "$DB" -q users add partner1 --role analyst --password-stdin
echo "a long enough password" | "$V" --db "$DB" -q users add admin1 --role admin --password-stdin
TOKEN=$("$V" --db "$DB" -q users token partner1 --partner loadgen)
ADMIN=$("$V" --db "$DB" -q users token admin1 --partner counter)

start_server() {
  "$V" --db "$DB" --key-file "$WORK/key" -q serve --addr 127.0.0.1:0 > "$WORK/serve.out" &
  SERVER=$!
  for _ in $(seq 600); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
  ADDR=$(sed -n 's#listening on http://\(.*\)/#\1#p' "$WORK/serve.out")
}

start_server
echo "server at $ADDR; $RUNS runs of $RATE reports/s for $SECONDS_ s over $CONNS connections"
for run in $(seq "$RUNS"); do
  BEFORE=$("$LOAD" count "$ADDR" "$ADMIN")
  OUT=$("$LOAD" submit "$ADDR" "$TOKEN" "$RATE" "$SECONDS_" "$CONNS")
  AFTER=$("$LOAD" count "$ADDR" "$ADMIN")
  CREATED=$(echo "$OUT" | sed -n 's/.*201: \([0-9]*\),.*/\1/p')
  echo "run $run: $OUT; stored $((AFTER - BEFORE)) (acknowledged $CREATED)"
  [ "$((AFTER - BEFORE))" -eq "$CREATED" ] || { echo "MISMATCH: count in != count stored"; exit 1; }
done
kill $SERVER; wait $SERVER 2>/dev/null || true
start_server
echo "after restart: $("$LOAD" count "$ADDR" "$ADMIN") reports stored (expected $AFTER)"
du -b "$DB"* | awk '{print "database file:", $2, $1, "bytes"}'
