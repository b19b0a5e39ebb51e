#!/usr/bin/env python3
"""Fits and checks the weights of a linear pool of the hurdle model and the
baselines from the sufficient statistics written by the `stack_weights`
example (see bench/forecast/stack.sh).

Usage: stack.py ACC_FILE [w_hurdle w_confl w_boot w_last w_confl120 w_spatial]
  USE=0,1,2,3 (default) searches over the library's components; USE=0,1,2,3,4,5 adds the
  two candidate baselines of the stack_weights example.
  Without weights: grid search (step 0.05) on the sets whose label starts
  with "tune:", minimising the mean CRPS ratio to conflictology over those
  sets and horizons (bias ratio within 0.82..1.23 on every tuning row), then
  prints every set (tuning and held out) with the chosen weights.
  With weights: prints every set with those weights.
Usage: stack.py compare BASE_ACC OTHER_ACC
  The hurdle alone in two runs (e.g. OTHER with ABLATE=spatial_): CRPS ratio
  per set and horizon, and the mean over tuning and held-out rows.
"""
import itertools
import sys

K = 6
# the bar (0.8..1.25) less a margin for the sampling noise of 1000 draws
BIAS_LO, BIAS_HI = 0.82, 1.23
NAMES = ["hurdle", "conflictology", "bootstrap", "last", "conflictology120", "spatial_conflictology"]


def decode(v):
    """The sums of one record as stack_weights writes them (after the name,
    horizon and, per origin, the origin), by field; each over the K
    components."""
    i = 0

    def take(k):
        nonlocal i
        out = v[i:i + k]
        i += k
        return out

    n, obs, anyy = take(3)
    ey = take(K)
    ex = [take(K) for _ in range(K)]
    mean = take(K)
    p = take(K)
    pp = [take(K) for _ in range(K)]
    po = take(K)
    return dict(n=n, obs=obs, any=anyy, ey=ey, ex=ex, mean=mean, p=p, pp=pp, po=po)


def parse(path):
    rows = []
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        rows.append(dict(name=parts[0], h=parts[1], **decode([float(x) for x in parts[2:]])))
    return rows


def score(r, w):
    crps = sum(w[i] * r["ey"][i] for i in range(K)) - 0.5 * sum(
        w[i] * w[j] * r["ex"][i][j] for i in range(K) for j in range(K))
    crps /= r["n"]
    conf = (r["ey"][1] - 0.5 * r["ex"][1][1]) / r["n"]
    mean = sum(w[i] * r["mean"][i] for i in range(K))
    bias = mean / r["obs"] if r["obs"] > 0 else float("nan")
    brier = (sum(w[i] * w[j] * r["pp"][i][j] for i in range(K) for j in range(K))
             - 2 * sum(w[i] * r["po"][i] for i in range(K)) + r["any"]) / r["n"]
    brier_last = (r["pp"][3][3] - 2 * r["po"][3] + r["any"]) / r["n"]
    return crps / conf, bias, brier, brier_last


def show(rows, w):
    print("weights " + ", ".join(f"{n} {x:.2f}" for n, x in zip(NAMES, w)))
    for r in rows:
        ratio, bias, brier, bl = score(r, w)
        hr, hb, _, _ = score(r, [1] + [0] * (K - 1))
        ok = ratio <= 0.95 and brier < bl and 0.8 <= bias <= 1.25
        print(f"{r['name']:<48} {r['h']} ratio {ratio:.3f} (hurdle {hr:.3f}) bias {bias:.3f} (hurdle {hb:.3f}) "
              f"brier {brier:.4f}<{bl:.4f} {'PASS' if ok else 'fail'}")


def compare(base_path, other_path):
    base, other = parse(base_path), {(r["name"], r["h"]): r for r in parse(other_path)}
    hurdle = [1] + [0] * (K - 1)
    sums = {}
    for r in base:
        o = other.get((r["name"], r["h"]))
        if o is None:
            continue
        a, b = score(r, hurdle)[0], score(o, hurdle)[0]
        print(f"{r['name']:<48} {r['h']} ratio {a:.3f} -> {b:.3f} ({b - a:+.3f})")
        s = sums.setdefault(r["name"].split(":")[0], [0.0, 0.0, 0])
        s[0], s[1], s[2] = s[0] + a, s[1] + b, s[2] + 1
    for k, (a, b, n) in sums.items():
        print(f"mean over {k} rows ({n}): {a / n:.4f} -> {b / n:.4f} ({(b - a) / n:+.4f})")


def main():
    if sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
        return
    rows = parse(sys.argv[1])
    if len(sys.argv) == 2 + K:
        show(rows, [float(x) for x in sys.argv[2:2 + K]])
        return
    tune = [r for r in rows if r["name"].startswith("tune:")]
    steps = 20
    best = None
    import os
    use = [int(x) for x in os.environ.get("USE", "0,1,2,3").split(",")]
    for parts in itertools.product(range(steps + 1), repeat=len(use) - 1):
        if sum(parts) > steps:
            continue
        w = [0.0] * K
        for i, c in zip(use, list(parts) + [steps - sum(parts)]):
            w[i] = c / steps
        s = [score(r, w) for r in tune]
        if any(not (BIAS_LO <= x[1] <= BIAS_HI) for x in s):
            continue
        mean_ratio = sum(x[0] for x in s) / len(s)
        if best is None or mean_ratio < best[0] - 1e-12:
            best = (mean_ratio, w, max(x[0] for x in s))
    print(f"fitted on {len(tune)} tuning rows: mean ratio {best[0]:.4f}, worst {best[2]:.4f}")
    show(rows, best[1])


if __name__ == "__main__":
    main()
