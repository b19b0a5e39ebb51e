#!/usr/bin/env bash
# Situation reports on the demo data: the time `vitalcore sitrep` takes to
# write the HTML file and the PDF (issue 12 asks for under 10 s each).
#   bench/sitrep/run.sh [RUNS] [FROM] [TO]
# VITALCORE_BIN picks the binary (default: a release build made here).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-7}
FROM=${2:-2013-01}
TO=${3:-2022-12}
if [ -z "${VITALCORE_BIN:-}" ]; then
  cargo build -q --release -p vitalcore
  VITALCORE_BIN=target/release/vitalcore
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$VITALCORE_BIN" demo --no-serve --demo-db "$WORK/demo.db" >/dev/null 2>&1
echo "binary: $VITALCORE_BIN; demo data; period $FROM..$TO; $RUNS runs each, alternated; load: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
html=() pdf=() pub=()
for _ in $(seq "$RUNS"); do
  for f in html pdf; do
    s=$(date +%s.%N)
    "$VITALCORE_BIN" --db "$WORK/demo.db" --quiet sitrep --from "$FROM" --to "$TO" --format $f --out "$WORK/r.$f"
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [ $f = html ]; then html+=("$t"); else pdf+=("$t"); fi
  done
  s=$(date +%s.%N)
  "$VITALCORE_BIN" --db "$WORK/demo.db" --quiet sitrep --from "$FROM" --to "$TO" --audience public --area CF32 --format pdf --out "$WORK/p.pdf"
  e=$(date +%s.%N)
  pub+=("$(echo "$e - $s" | bc)")
done
printf 'html, mission-wide:        median %.3f s (runs: %s) %s bytes\n' "$(printf '%s\n' "${html[@]}" | median)" "${html[*]}" "$(stat -c %s "$WORK/r.html")"
printf 'pdf, mission-wide:         median %.3f s (runs: %s) %s bytes\n' "$(printf '%s\n' "${pdf[@]}" | median)" "${pdf[*]}" "$(stat -c %s "$WORK/r.pdf")"
printf 'pdf, CF32, public:         median %.3f s (runs: %s)\n' "$(printf '%s\n' "${pub[@]}" | median)" "${pub[*]}"
if command -v pdfinfo >/dev/null; then pdfinfo "$WORK/r.pdf" | grep -E '^Pages'; fi
