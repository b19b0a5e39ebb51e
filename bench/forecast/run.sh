#!/usr/bin/env bash
# Forecast benchmarks (see RESULTS.md):
#  1. full rolling-origin backtest (60 monthly origins x 3 horizons, 6 models,
#     1000 draws) on a synthetic Africa-sized PRIO-GRID panel (10,000 cells x
#     360 months); bar: under 60 s;
#  2. the scoring engine (CRPS, ignorance, interval score on ROWS unit-months x
#     1000 draws) against properscoring / xskillscore and the VIEWS numpy
#     definitions, interleaved runs, identical results to 1e-9 relative;
#     bar: >= 10x faster.
# Usage: bench/forecast/run.sh [RUNS] [ROWS]   (defaults 3, 600000)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
ROWS=${2:-600000}
N=1000
WORK=${WORK:-$(mktemp -d /tmp/vc-forecast-bench.XXXX)}
VENV=bench/.venv-forecast

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy xarray properscoring xskillscore numba
fi
PY="$VENV/bin/python"
"$PY" -c "import numpy, properscoring, xskillscore, numba; print('numpy', numpy.__version__, 'properscoring', properscoring.__version__ if hasattr(properscoring, '__version__') else '?', 'xskillscore', xskillscore.__version__, 'numba', numba.__version__)"

# The vitalcore binary; if the workspace does not build (other crates
# mid-edit), the forecast crate's examples run the same library code.
if cargo build --release -q -p vitalcore 2>/dev/null; then
  BACKTEST=(target/release/vitalcore forecast evaluate --synthetic-grid 100x100x360 --unit grid --start 2014-10 --end 2019-09 --horizons 1,2,3 --samples 1000 --refit-every 12 --format json --quiet --out "$WORK/backtest.json")
  SCORE=(target/release/vitalcore forecast score-bench --obs "$WORK/obs.f64" --draws "$WORK/draws.u16" --n $N --out "$WORK/vitalcore.f64")
else
  echo "note: the vitalcore binary does not build right now; using the vitalcore-forecast examples" >&2
  cargo build --release -q -p vitalcore-forecast --examples
  BACKTEST=(target/release/examples/synthetic_backtest 100 100 360 12 1000)
  SCORE=(target/release/examples/score_bench "$WORK/obs.f64" "$WORK/draws.u16" $N 2 "$WORK/vitalcore.f64")
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

uptime
echo "== 1. backtest on the synthetic grid ($RUNS runs)"
: > "$WORK/backtest.times"
for i in $(seq "$RUNS"); do
  s=$(date +%s.%N); "${BACKTEST[@]}" > "$WORK/backtest.out" 2>&1; e=$(date +%s.%N)
  echo "$e - $s" | bc | tee -a "$WORK/backtest.times"
done
echo "backtest median seconds: $(median < "$WORK/backtest.times")  (bar: < 60)"

echo "== 2. scoring engine, $ROWS rows x $N draws"
[ -f "$WORK/draws.u16" ] || "$PY" bench/forecast/peer.py gen "$WORK" "$ROWS" "$N" 42
: > "$WORK/vc.jsonl"; : > "$WORK/peer.jsonl"
for i in $(seq "$RUNS"); do
  "${SCORE[@]}" | tee -a "$WORK/vc.jsonl"
  # unset only here: OpenBLAS core-type pinning slows current numpy
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/forecast/peer.py score "$WORK" "$N" | tee -a "$WORK/peer.jsonl"
done
"$PY" bench/forecast/peer.py compare "$WORK"
"$PY" - "$WORK" <<'PYEOF'
import json, statistics, sys
d = sys.argv[1]
vc = [json.loads(l) for l in open(f"{d}/vc.jsonl")]
pe = [json.loads(l) for l in open(f"{d}/peer.jsonl")]
m = lambda rows, k: statistics.median(r[k] for r in rows)
print(f"vitalcore threads: {vc[0]['threads']}")
for name, vk, pk in [("crps vs properscoring", "crps_s", "crps_properscoring_s"),
                     ("crps vs xskillscore", "crps_s", "crps_xskillscore_s"),
                     ("ignorance (VIEWS def.)", "ign_s", "ign_s"),
                     ("interval (VIEWS def.)", "interval_s", "interval_s")]:
    a, b = m(vc, vk), m(pe, pk)
    vk_cpu, pk_cpu = vk.replace("_s", "_cpu_s"), pk.replace("_s", "_cpu_s")
    cpu = ""
    if vk_cpu in vc[0] and pk_cpu in pe[0]:
        ac, bc = m(vc, vk_cpu), m(pe, pk_cpu)
        cpu = f"   | CPU: vitalcore {ac:6.2f} s (2 threads)  peer {bc:6.2f} s  ratio {bc/max(ac, 0.01):5.1f}x"
    print(f"{name:26s} wall: vitalcore {a:8.3f} s   peer {b:8.3f} s   ratio {b/a:6.1f}x{cpu}")
a = m(vc, "all_s"); b = m(pe, "crps_properscoring_s") + m(pe, "ign_s") + m(pe, "interval_s")
print(f"{'all three':26s} vitalcore {a:8.3f} s   peer {b:8.3f} s   ratio {b/a:6.1f}x (vitalcore sorts once for all three)")
PYEOF
echo "work files in $WORK"
uptime
