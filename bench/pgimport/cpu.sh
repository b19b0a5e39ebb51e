#!/bin/bash
# cpu.sh DB LABEL SQL...: server CPU seconds of each SQL (in one transaction, rolled back)
db=$1; shift
{
echo "SET max_parallel_maintenance_workers = 0; SET max_parallel_workers_per_gather = 0;"
echo "SELECT pg_backend_pid() AS pid \\gset"; echo "\\setenv PID :pid"
echo "BEGIN; SET LOCAL maintenance_work_mem = '256MB';"
i=0
for sql in "$@"; do i=$((i+1));
echo "\\! awk '{print \$14+\$15}' /proc/\$PID/stat > /tmp/cpu0.\$PID"
echo "$sql"
echo "\\! awk -v q=$i '{getline a < \"/tmp/cpu0.'\$PID'\"; print \"stmt \" q \": server CPU \" (\$14+\$15-a)/100 \" s\"}' /proc/\$PID/stat"
done
echo "ROLLBACK;"
} > /tmp/cpu.$$.sql
psql -h 127.0.0.1 -U postgres -d $db -q -f /tmp/cpu.$$.sql 2>&1 | grep -v '^$'
