#!/usr/bin/env bash
# Sufficient statistics for the stacked ensemble (hurdle + baselines) on the
# tuning sets and the held-out sets, then the weights fitted on the tuning
# sets and every set scored with them. The split was fixed before any
# tuning (bench/forecast/RESULTS.md section 4):
#   tune: UCDP CAR (admin1 and grid, origins 2012-16 and 2016-20) and ACLED
#         Burundi battles admin1 2016-20;
#   held: every other country (the UCDP global sample: Syria, Afghanistan,
#         all countries as units, and India, Mexico, DR Congo, Pakistan,
#         Colombia, Ukraine at admin1; Syria and Afghanistan at grid),
#         other periods and targets of the tuning countries.
# Usage: bench/forecast/stack.sh [DATASETS_DIR] [OUT]   (default ../shared/datasets, /tmp/stack.acc)
# OUT.origins gets the same sums per origin (bench/forecast/online.py: the hindsight
# oracle pool per row and online stacking; RESULTS.md section 4, part 2).
# ONLY=PATTERN runs only the sets whose label matches (grep -E).
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${1:-../shared/datasets}
OUT=${2:-/tmp/stack.acc}
CAR=$D/ucdp-ged-car-v23_1/GEDEvent_v23_1_CAF.geojson
CAR_ADM1=$D/boundaries-caf-adm1/caf_adm1_ocha_cod.geojson
BDI=$D/acled-burundi-battles-2007-2020/acled-battles-burundi-2007-2020.csv
GLOBAL=$D/ucdp-ged-sample-global/ucdpged_sample_1000.csv
cargo build --release -q -p vitalcore-forecast --features files --example stack_weights
EV=target/release/examples/stack_weights
: >"$OUT"
: >"$OUT.origins"
run() {
  local name=$1
  shift
  if [ -n "${ONLY:-}" ] && ! grep -qE "$ONLY" <<<"$name"; then return; fi
  "$EV" --name "$name" --acc "$OUT" --acc-origins "$OUT.origins" "$@"
}
G="--first 1989-01 --last 2022-12 --start 2016-01 --end 2020-12"
run "tune:CAR admin1 2016-20" --events "$CAR" --boundaries "$CAR_ADM1" --unit admin1 --last 2022-12 --start 2016-01 --end 2020-12
run "tune:CAR grid 2016-20" --events "$CAR" --unit grid --last 2022-12 --start 2016-01 --end 2020-12
run "tune:Burundi admin1 2016-20" --events "$BDI" --unit admin1 --last 2020-12 --start 2016-01 --end 2020-12
run "tune:CAR admin1 2012-16" --events "$CAR" --boundaries "$CAR_ADM1" --unit admin1 --last 2022-12 --start 2012-01 --end 2016-12
run "tune:CAR grid 2012-16" --events "$CAR" --unit grid --last 2022-12 --start 2012-01 --end 2016-12
run "held:Syria admin1 2016-20" --events "$GLOBAL" --country Syria --unit admin1 --first 2005-01 --last 2022-12 --start 2016-01 --end 2020-12
run "held:Afghanistan admin1 2016-20" --events "$GLOBAL" --country Afghanistan --unit admin1 $G
run "held:all countries 2016-20" --events "$GLOBAL" --unit country $G
run "held:Syria grid 2016-20" --events "$GLOBAL" --country Syria --unit grid --first 2005-01 --last 2022-12 --start 2016-01 --end 2020-12
run "held:Afghanistan grid 2016-20" --events "$GLOBAL" --country Afghanistan --unit grid $G
for c in India Mexico "DR Congo (Zaire)" Pakistan Colombia Ukraine; do
  run "held:$c admin1 2016-20" --events "$GLOBAL" --country "$c" --unit admin1 $G
done
run "held:CAR admin1 2017-06..2022-09" --events "$CAR" --boundaries "$CAR_ADM1" --unit admin1 --last 2022-12 --start 2017-06 --end 2022-09
run "held:CAR grid 2017-06..2022-09" --events "$CAR" --unit grid --last 2022-12 --start 2017-06 --end 2022-09
run "held:CAR admin1 events 2016-20" --events "$CAR" --boundaries "$CAR_ADM1" --unit admin1 --target events --last 2022-12 --start 2016-01 --end 2020-12
run "held:Burundi admin1 events 2016-20" --events "$BDI" --unit admin1 --target events --last 2020-12 --start 2016-01 --end 2020-12
run "held:Burundi admin1 2010-14" --events "$BDI" --unit admin1 --last 2020-12 --start 2010-01 --end 2014-12
run "held:Burundi grid 2016-20" --events "$BDI" --unit grid --last 2020-12 --start 2016-01 --end 2020-12
python3 bench/forecast/stack.py "$OUT"
