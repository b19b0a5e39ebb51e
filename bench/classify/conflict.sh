#!/usr/bin/env bash
# Conflict-incident texts (ACLED notes, weakly labelled, split by country)
# next to disaster messages: per-dimension precision and recall of
# `vitalcore classify`, trained model and lexicon alone. See conflict.py and
# conflict_labels.py.
#
# usage: bench/classify/conflict.sh [DISASTER_DIR [ACLED_FILE...]]
#   DISASTER_DIR default ../shared/datasets/disaster-messages (relative to the repository root);
#   ACLED_FILE default: the three ACLED exports in ../shared/datasets.
# Environment: OUT (default bench/out/classify-conflict; ACLED rows are written there, never commit it),
#              MODEL (evaluate this model file instead of training one).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DATA="$(realpath "${1:-../shared/datasets/disaster-messages}")"
shift || true
if [ "$#" -eq 0 ]; then
  D="$(realpath ../shared/datasets)"
  set -- "$D/acled-all-africa-2016/ACLED-All-Africa-File_20160101-to-20160528_csv.zip" \
    "$D/acled-drc-2018-ebola/2018-08-01-2018-11-26-Democratic_Republic_of_Congo.csv" \
    "$D/acled-burundi-battles-2007-2020/acled-battles-burundi-2007-2020.csv"
fi
OUT="${OUT:-$ROOT/bench/out/classify-conflict}"

cargo build --release -q -p vitalcore
VC=("${CARGO_TARGET_DIR:-$ROOT/target}/release/vitalcore" classify)
python3 "$ROOT/bench/classify/conflict.py" "$DATA" "$OUT" "$@" -- "${VC[@]}"
