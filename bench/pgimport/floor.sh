#!/bin/bash
# Setup: a database vc_pgimport_schema with the schema only (createdb, then `vitalcore --database-url ... status`);
# DUMP: the events rows of one import without id, from psql: \copy events (every column but id) TO events.bin (FORMAT binary)
# Floor: how fast this server ingests the 2M events rows, nothing of vitalcore in the way.
# usage: floor.sh VARIANT N   (VARIANT: pk | bulk | indexed)
set -e
variant=$1; n=$2
db=vc_pgimport_floor_$n
dropdb -h 127.0.0.1 -U postgres --if-exists $db
createdb -h 127.0.0.1 -U postgres -T vc_pgimport_schema $db
case $variant in
  pk) pre="ALTER TABLE events DROP CONSTRAINT events_source_source_id_key; ALTER TABLE events DROP CONSTRAINT events_import_id_fkey; DROP INDEX events_date;"
      post="";;
  bulk) pre="ALTER TABLE events DROP CONSTRAINT events_source_source_id_key; ALTER TABLE events DROP CONSTRAINT events_import_id_fkey; DROP INDEX events_date;"
      post="SET LOCAL maintenance_work_mem = '256MB'; ALTER TABLE events ADD CONSTRAINT events_source_source_id_key UNIQUE (source, source_id); ALTER TABLE events ADD CONSTRAINT events_import_id_fkey FOREIGN KEY (import_id) REFERENCES imports(id); CREATE INDEX events_date ON events (date);";;
  indexed) pre=""; post="";;
esac
psql -h 127.0.0.1 -U postgres -d $db -q -v ON_ERROR_STOP=1 <<SQL
SET max_parallel_maintenance_workers = 0;
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
SELECT pg_current_wal_lsn() AS lsn0 \gset
INSERT INTO imports (id, path, sha256, format, kind, rows_read, rows_rejected, imported_at) OVERRIDING SYSTEM VALUE VALUES (1, 'x', 'x', 'x', 'events', 0, 0, now());
\! awk '{print "cpu0", \$14+\$15}' /proc/\$PID/stat > cpu.$variant.$n
\! date +%s.%N > t0.$variant.$n
BEGIN;
$pre
\copy events (source, source_id, version, fingerprint, date, date_end, month, country, iso3, admin1, admin2, location, lat, lon, precision, admin1_pcode, admin2_pcode, grid_gid, event_type, sub_event_type, actor1, actor2, fatalities, civilian_fatalities, civilian_targeting, notes, dimensions, themes, severity, rule, file, line, import_id, stored_at) FROM '${DUMP:-events.bin}' (FORMAT binary)
$post
COMMIT;
\! date +%s.%N > t1.$variant.$n
\! awk '{print "cpu1", \$14+\$15}' /proc/\$PID/stat >> cpu.$variant.$n
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn0')::bigint AS wal_bytes \gset
\setenv WAL :wal_bytes
\! echo wal \$WAL >> cpu.$variant.$n
SQL
t0=$(cat t0.$variant.$n); t1=$(cat t1.$variant.$n)
c0=$(awk '/cpu0/{print $2}' cpu.$variant.$n); c1=$(awk '/cpu1/{print $2}' cpu.$variant.$n); wal=$(awk '/wal/{print $2}' cpu.$variant.$n)
echo "$variant run $n: wall $(echo "$t1 - $t0" | bc) s, server CPU $(echo "($c1 - $c0)/100" | bc -l | cut -c1-5) s, WAL $((wal/1048576)) MB, load $(cut -d' ' -f1-3 /proc/loadavg)"
dropdb -h 127.0.0.1 -U postgres $db
