#!/usr/bin/env bash
# KoBo import of N synthetic rows through the CLI, end to end, RUNS times
# on a fresh database each; prints each run's phases and the median wall time.
# usage: bench/intake/kobo_import.sh [ROWS=100000] [RUNS=3]
set -euo pipefail
rows=${1:-100000}; runs=${2:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && cargo build --release -q -p vitalcore)
# A private copy: the shared target directory may be rebuilt meanwhile.
cp "$root/target/release/vitalcore" "$work/vc"
python3 "$root/bench/intake/kobo_synth.py" "$rows" "$work/rows.csv"
"$work/vc" --db "$work/key.db" users keygen --out "$work/key" >/dev/null 2>&1
times=()
for run in $(seq 1 "$runs"); do
  rm -f "$work"/kb.db*
  "$work/vc" --db "$work/kb.db" import "$root/crates/import/tests/fixtures/caf_adm1_simplified.geojson" >/dev/null 2>&1
  out=$( { /usr/bin/time -f "TIME %e %U %S %M" "$work/vc" --db "$work/kb.db" --key-file "$work/key" \
      report import-kobo "$work/rows.csv" --mapping "$root/bench/intake/kobo_speed.toml"; } 2>&1 | grep -v '^rejected:')
  echo "run $run:"; echo "$out" | sed 's/^/  /'
  times+=("$(echo "$out" | awk '/^TIME/ {print $2}')")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median wall time: " a[int((NR+1)/2)] " s over " NR " runs"}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
