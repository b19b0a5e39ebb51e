#!/usr/bin/env bash
# Peer benchmark for `vitalcore classify`: scikit-learn TF-IDF word 1-2 grams
# + one-vs-rest LogisticRegression(class_weight="balanced") vs vitalcore, on
# the same train/validation split and crosswalk, interleaved RUNS times.
#
# usage: bench/classify/run.sh [DATA_DIR]   (default ../shared/datasets/disaster-messages,
#        relative to the repository root; DATA_DIR needs train.csv, validation.csv, crosswalk.csv)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DATA_DIR="$(realpath "${1:-../shared/datasets/disaster-messages}")"
VENV="$ROOT/bench/.venv-classify"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check scikit-learn numpy

cargo build --release -q -p vitalcore
# Honour CARGO_TARGET_DIR so the binary run is the one just built.
VC=("${CARGO_TARGET_DIR:-$ROOT/target}/release/vitalcore" classify)

"$VENV/bin/python" "$ROOT/bench/classify/compare.py" "$DATA_DIR" "${VC[@]}"
