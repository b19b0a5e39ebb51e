#!/usr/bin/env bash
# Store import benchmark: N synthetic ACLED-shaped events generated in memory,
# imported into a fresh SQLite file and a fresh PostgreSQL schema, imported
# again (all unchanged), then with 10% revised. Medians of RUNS runs.
#
#   bench/store/run.sh                       # 1M rows, 3 runs, both backends
#   ROWS=200000 RUNS=5 bench/store/run.sh --backend sqlite
#
# PostgreSQL: VITALCORE_PG_URL (default host=127.0.0.1 user=postgres dbname=test).
# SQLite files go to --dir (default: the system temporary folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-3}"
cargo run --quiet --release -p vitalcore-store-postgres --example store_bench -- \
    --rows "$ROWS" --runs "$RUNS" "$@"
