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

# The real binary; if another crate of the workspace does not build right now,
# fall back to the same subcommand built from the classify crate alone
# (crates/classify/examples/classify.rs compiles crates/cli/src/cmd/classify.rs).
if cargo build --release -q -p vitalcore 2>/dev/null; then
  VC=("$ROOT/target/release/vitalcore" classify)
else
  echo "note: the vitalcore binary does not build at the moment; using the classify example binary (same source)" >&2
  cargo build --release -q -p vitalcore-classify --example classify
  VC=("$ROOT/target/release/examples/classify")
fi

"$VENV/bin/python" "$ROOT/bench/classify/compare.py" "$DATA_DIR" "${VC[@]}"
