#!/usr/bin/env bash
# Do two builds answer the analysis endpoints alike? Fills a SQLite store
# with ROWS synthetic events (fill_store), serves it with both binaries and
# compares 18 answers as JSON with sorted keys (grid features sorted by id:
# their order comes from a hash map). Exit 1 when any differs.
#
#   bench/server/same_answers.sh OLD/vitalcore NEW/vitalcore [FILL]
#
# The filler writes the current schema. An older binary refuses a newer
# schema, so it reads a copy whose schema version is set back to OLD_SCHEMA
# (default 5): right only while the later migrations leave the event and
# area tables as they were (true of migration 6, which adds intake tables).
set -euo pipefail
OLD=$1 NEW=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
FILL=${3:-$TARGET/release/examples/fill_store}
ROWS=${ROWS:-30000}
CARGO_TARGET_DIR="$TARGET" cargo build --release -q --manifest-path "$ROOT/bench/server/loadgen/Cargo.toml"
LOAD="$TARGET/release/server-loadgen"
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
"$FILL" --rows "$ROWS" --vertices 50 --sqlite "$WORK/new.db" 2>/dev/null
cp "$WORK/new.db" "$WORK/old.db"
python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = ${OLD_SCHEMA:-5}'); c.commit()" "$WORK/old.db"
serve() { # BIN DB NAME: starts a server (in this shell, so that the trap stops it)
  "$1" --db "$2" -q serve --addr 127.0.0.1:0 > "$WORK/$3.out" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q listening "$WORK/$3.out" 2>/dev/null && break; sleep 0.1; done
}
address() { sed -n 's#listening on http://\(.*\)/#\1#p' "$WORK/$1.out"; }
serve "$OLD" "$WORK/old.db" old
serve "$NEW" "$WORK/new.db" new
A=$(address old)
B=$(address new)
SORT='(.features? // empty) |= sort_by(.properties.id)'
n=0 differ=0
for p in "/api/v1/boundaries?unit=admin1" "/api/v1/boundaries?unit=grid&from=2015-01&to=2016-06" \
  "/api/v1/boundaries?unit=admin2&category=personal" "/api/v1/boundaries?unit=grid&category=community" \
  "/api/v1/boundaries?unit=admin1&category=protection-of-civilians&from=2014-01" \
  "/api/v1/boundaries?unit=country&category=nothing" "/api/v1/areas?unit=country&period=year" "/api/v1/areas?unit=grid" \
  "/api/v1/assessment?unit=admin1&period=quarter" "/api/v1/assessment?unit=grid&from=2019-03" \
  "/api/v1/assessment?to=2014-02" "/api/v1/areas/CF01/profile?unit=admin1" \
  "/api/v1/areas/province%203/profile?unit=admin1&from=2016-01&to=2017-12" "/api/v1/areas/CAF/profile?unit=country" \
  "/api/v1/assessment?from=2030-01" "/api/v1/areas/CF0105/profile?unit=admin2&from=2014-05" \
  "/api/v1/areas/nowhere/profile" "/api/v1/assessment?from=2015-01&to=2014-01"; do
  n=$((n + 1))
  "$LOAD" get "$A" "$p" 2>/dev/null | jq -S "$SORT" > "$WORK/a.json" || true
  "$LOAD" get "$B" "$p" 2>/dev/null | jq -S "$SORT" > "$WORK/b.json" || true
  if [ ! -s "$WORK/a.json" ] || [ ! -s "$WORK/b.json" ]; then
    differ=$((differ + 1))
    echo "NO ANSWER  $p"
  elif cmp -s "$WORK/a.json" "$WORK/b.json"; then
    echo "same  $(wc -c < "$WORK/a.json") bytes  $p"
  else
    differ=$((differ + 1))
    echo "DIFFERS  $p"
  fi
done
echo "$n answers, $differ differ"
[ "$differ" = 0 ]
