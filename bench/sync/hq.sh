# Sourced by the sync benchmarks (run.sh, flows_up.sh, events.sh): HQ's
# database for each run and its server. Uses V (the binary), D (the run's
# folder) and PGURL (empty: SQLite).

# fresh_hq RUN NAME: sets HQ, the arguments naming HQ's database: a new
# PostgreSQL database NAME_<pid>_RUN in PGURL's server, else $D/hq.db.
fresh_hq() {
  if [ -n "$PGURL" ]; then
    DB=$2_$$_$1
    psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
    HQ=(--database-url "$(echo "$PGURL" | sed "s/dbname=[^ ]*/dbname=$DB/")")
  else
    HQ=(--db "$D/hq.db")
  fi
}

# start_hq: `vitalcore serve` on HQ's database at a free loopback port; sets SERVER and URL.
start_hq() {
  "$V" "${HQ[@]}" -q serve --addr 127.0.0.1:0 > serve.out 2>/dev/null & SERVER=$!
  for _ in $(seq 50); do grep -q listening serve.out 2>/dev/null && break; sleep 0.2; done
  URL=$(sed -n 's/^listening on \(http:[^ ]*\)\/$/\1/p' serve.out)
}

# stop_hq: the server stopped and, on PostgreSQL, the run's database dropped.
stop_hq() {
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  if [ -n "$PGURL" ]; then psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null; fi
}
