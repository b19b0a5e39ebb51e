#!/bin/bash
# Setup: a database vc_pgimport_schema with the schema only (createdb, then `vitalcore --database-url ... status`);
# DUMP: the events rows of one import without id, from psql: \copy events (every column but id) TO events.bin (FORMAT binary)
# Server CPU and wall of each statement of the bulk import, replayed with psql on the dumped rows.
set -e
n=$1; db=vc_pgimport_steps_$n; workers=${2:-0}
dropdb -h 127.0.0.1 -U postgres --if-exists $db
createdb -h 127.0.0.1 -U postgres -T vc_pgimport_schema $db
cols="source, source_id, version, fingerprint, date, date_end, month, country, iso3, admin1, admin2, location, lat, lon, precision, admin1_pcode, admin2_pcode, grid_gid, event_type, sub_event_type, actor1, actor2, fatalities, civilian_fatalities, civilian_targeting, notes, dimensions, themes, severity, rule, file, line, import_id, stored_at"
step() { echo "SELECT pg_current_wal_lsn() AS lsn \\gset"; echo "\\! awk '{printf \"%s cpu0 %d\\n\", \"$1\", \$14+\$15}' /proc/\$PID/stat >> steps.$n"; echo "\\! date +\"$1 t0 %s.%N\" >> steps.$n"; echo "$2"; echo "\\! date +\"$1 t1 %s.%N\" >> steps.$n"; echo "\\! awk '{printf \"%s cpu1 %d\\n\", \"$1\", \$14+\$15}' /proc/\$PID/stat >> steps.$n"; echo "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn')::bigint AS w \\gset"; echo "\\setenv W :w"; echo "\\! echo $1 wal \$W >> steps.$n"; }
rm -f steps.$n
{
echo "SET max_parallel_maintenance_workers = $workers;"
echo "SELECT pg_backend_pid() AS pid \\gset"; echo "\\setenv PID :pid"
echo "INSERT INTO imports (id, path, sha256, format, kind, rows_read, rows_rejected, imported_at) OVERRIDING SYSTEM VALUE VALUES (1, 'x', 'x', 'x', 'events', 0, 0, now());"
echo "BEGIN;"
echo "ALTER TABLE events DROP CONSTRAINT events_source_source_id_key; ALTER TABLE events DROP CONSTRAINT events_import_id_fkey; DROP INDEX events_date;"
echo "SET LOCAL maintenance_work_mem = '256MB';"
step copy "\\copy events ($cols) FROM '${DUMP:-events.bin}' (FORMAT binary)"
step unique "ALTER TABLE events ADD CONSTRAINT events_source_source_id_key UNIQUE (source, source_id);"
step fkey "ALTER TABLE events ADD CONSTRAINT events_import_id_fkey FOREIGN KEY (import_id) REFERENCES imports(id);"
step date_index "CREATE INDEX events_date ON events (date);"
step sync_log "INSERT INTO sync_log (kind, row_id, area, origin) SELECT 'event', id, coalesce(admin2_pcode, admin1_pcode), vitalcore_sync_origin() FROM events WHERE import_id = 1 ORDER BY id;"
step commit "COMMIT;"
} > steps.$n.sql
psql -h 127.0.0.1 -U postgres -d $db -q -v ON_ERROR_STOP=1 -f steps.$n.sql
python3 - $n <<'PY'
import sys,collections
d=collections.defaultdict(dict)
for line in open(f"steps.{sys.argv[1]}"):
    k,f,v=line.split(); d[k][f]=float(v)
for k,v in d.items():
    print(f"{k:12s} wall {v['t1']-v['t0']:6.2f} s  server CPU {(v['cpu1']-v['cpu0'])/100:6.2f} s  WAL {v['wal']/2**20:6.0f} MB")
PY
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
dropdb -h 127.0.0.1 -U postgres $db
