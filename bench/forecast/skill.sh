#!/usr/bin/env bash
# Backtest skill bars (issue 5) on the real data in the datasets folder:
# hurdle CRPS <= 0.95 x conflictology, Brier < last value, bias 0.8..1.25,
# per horizon 1..3, 1000 draws, seed 1.
# Usage: bench/forecast/skill.sh [DATASETS_DIR]   (default ../shared/datasets)
# Uses the `vitalcore` binary when it builds, else the library example
# `evaluate_files` (same code; `--features files`).
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${1:-../shared/datasets}
CAR=$D/ucdp-ged-car-v23_1/GEDEvent_v23_1_CAF.geojson
CAR_ADM1=$D/boundaries-caf-adm1/caf_adm1_ocha_cod.geojson
BDI=$D/acled-burundi-battles-2007-2020/acled-battles-burundi-2007-2020.csv
GLOBAL=$D/ucdp-ged-sample-global/ucdpged_sample_1000.csv
cargo build --release -q -p vitalcore-forecast --features files --example evaluate_files
EV=target/release/examples/evaluate_files
run() { echo "== $1"; shift; "$EV" "$@"; }
run "UCDP CAR admin1, origins 2016-01..2020-12" --events "$CAR" --boundaries "$CAR_ADM1" --unit admin1 --last 2022-12 --start 2016-01 --end 2020-12
run "UCDP CAR grid, origins 2016-01..2020-12" --events "$CAR" --unit grid --last 2022-12 --start 2016-01 --end 2020-12
run "ACLED Burundi battles admin1, origins 2016-01..2020-12" --events "$BDI" --unit admin1 --last 2020-12 --start 2016-01 --end 2020-12
run "UCDP CAR admin1, origins 2012-01..2016-12 (after the 2013-14 peak)" --events "$CAR" --boundaries "$CAR_ADM1" --unit admin1 --last 2022-12 --start 2012-01 --end 2016-12
run "UCDP global sample, Syria admin1, origins 2016-01..2020-12" --events "$GLOBAL" --country Syria --unit admin1 --first 2005-01 --last 2022-12 --start 2016-01 --end 2020-12
run "UCDP global sample, Afghanistan admin1, origins 2016-01..2020-12" --events "$GLOBAL" --country Afghanistan --unit admin1 --first 1989-01 --last 2022-12 --start 2016-01 --end 2020-12
run "UCDP global sample, all countries as units, origins 2016-01..2020-12" --events "$GLOBAL" --unit country --first 1989-01 --last 2022-12 --start 2016-01 --end 2020-12
