#!/bin/bash
# FILE: the 2M-row file (vitalcore generate acled --rows 2000000 --seed 42 > acled-2m.csv)
# run.sh BIN LABEL N: one end-to-end import of the 2M file into a fresh database; client and server CPU.
bin=$1; label=$2; n=$3; db=vc_pgimport_${label}_$n
dropdb -h 127.0.0.1 -U postgres --if-exists $db 2>/dev/null
createdb -h 127.0.0.1 -U postgres $db
# migrate first so the import's backend is the only one measured
$bin --database-url "host=127.0.0.1 user=postgres dbname=$db" status >/dev/null
server_ticks() { # live server processes plus the ones the postmaster has reaped (cutime, cstime)
  local pm; pm=$(ps -u postgres -o pid=,args= | awk '/bin\/postgres/{print $1; exit}')
  { awk '{print $16+$17}' /proc/$pm/stat; for p in $(pgrep -u postgres); do awk '{print $14+$15}' /proc/$p/stat 2>/dev/null; done; } | awk '{s+=$1} END {print s}'
}
srv0=$(server_ticks)
out=$( { /usr/bin/time -f "%e s %M KB %U u %S s" $bin --database-url "host=127.0.0.1 user=postgres dbname=$db" --quiet import ${FILE:-acled-2m.csv} >/dev/null; } 2>&1 )
sleep 0.5; srv1=$(server_ticks)
echo "$label $n: $out | server CPU $(echo "($srv1-$srv0)/100" | bc -l | cut -c1-5) s | load $(cut -d' ' -f1-3 /proc/loadavg)"
dropdb -h 127.0.0.1 -U postgres $db
