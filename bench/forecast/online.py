#!/usr/bin/env python3
"""Two checks of linear pools beyond the fixed weights (bench/forecast/RESULTS.md section 4),
from the sums that bench/forecast/stack.sh writes (ACC and ACC.origins).

oracle ACC
    Per set and horizon, the pool of hurdle, conflictology, bootstrap, last value and the zero
    forecast with the lowest CRPS on that row itself, in hindsight (an upper bound on what any
    pool of these components can reach there), with and without the bias bar (0.8..1.25).
oracle-origins ACC.origins
    The same per origin: weights fitted in hindsight on each origin's outcomes (a bound for
    any rule whose weights change from origin to origin, online stacking included); no
    bias constraint.
online ACC.origins [HALF_LIFE TAU] [--score-like REF.origins]
    Online stacking: at each origin o and horizon h, weights minimising the exact mixture CRPS
    over the origins o' < o whose outcomes are known (o' + h <= o), past origins weighted
    0.5^(age / HALF_LIFE), shrunk toward the fixed weights by TAU / (weighted past origins);
    the fixed weights while there is no past. Without HALF_LIFE/TAU: a grid fitted on the
    tuning rows only, then every row with the chosen pair. With --score-like, only the
    (set, horizon, origin) of REF are scored and the earlier origins of ACC serve as past
    only (a run started five years earlier gives every scored origin five years of past).

The zero forecast is added analytically: E|0 - y| = y, E|X_i - 0| = mean of X_i.
Pure Python (no numpy on the box): the simplex QP is solved exactly by enumerating active sets.
"""
import itertools
import sys

from stack import decode

NAMES = ["hurdle", "conflictology", "bootstrap", "last", "zero"]
SRC = [0, 1, 2, 3]  # library components taken from the file; zero appended
FIXED = [0.85, 0.05, 0.05, 0.05, 0.0]


def parse_fields(v):
    d = decode(v)
    n, obs, anyy = d["n"], d["obs"], d["any"]
    ey, ex, mean, p, pp, po = d["ey"], d["ex"], d["mean"], d["p"], d["pp"], d["po"]
    # restrict to SRC and add zero
    m = len(SRC) + 1
    r = dict(n=n, obs=obs, any=anyy)
    r["ey"] = [ey[i] for i in SRC] + [obs]
    r["ex"] = [[ex[i][j] for j in SRC] + [mean[i]] for i in SRC] + [[mean[j] for j in SRC] + [0.0]]
    r["mean"] = [mean[i] for i in SRC] + [0.0]
    r["p"] = [p[i] for i in SRC] + [0.0]
    r["pp"] = [[pp[i][j] for j in SRC] + [0.0] for i in SRC] + [[0.0] * m]
    r["po"] = [po[i] for i in SRC] + [0.0]
    r["conf"] = ey[1] - 0.5 * ex[1][1]
    r["brier_last"] = pp[3][3] - 2 * po[3] + anyy
    return r


def read(path, per_origin):
    rows = []
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        k = 3 if per_origin else 2
        r = parse_fields([float(x) for x in parts[k:]])
        r["name"], r["h"] = parts[0], parts[1]
        if per_origin:
            r["origin"] = parts[2]
        rows.append(r)
    return rows


def add(a, b, s=1.0):
    """a + s * b for the sums of two rows (a may be None)."""
    if a is None:
        a = {k: (0.0 if isinstance(v, float) else [0.0] * len(v) if not isinstance(v[0], list)
                 else [[0.0] * len(v[0]) for _ in v]) for k, v in b.items() if k in SUMS}
    for k in SUMS:
        v = b[k]
        if isinstance(v, float):
            a[k] += s * v
        elif isinstance(v[0], list):
            for i in range(len(v)):
                for j in range(len(v)):
                    a[k][i][j] += s * v[i][j]
        else:
            for i in range(len(v)):
                a[k][i] += s * v[i]
    return a


SUMS = ["n", "obs", "any", "ey", "ex", "mean", "p", "pp", "po", "conf", "brier_last"]


def crps(r, w):
    m = len(w)
    return sum(w[i] * r["ey"][i] for i in range(m)) - 0.5 * sum(
        w[i] * w[j] * r["ex"][i][j] for i in range(m) for j in range(m))


def stats(r, w):
    """CRPS ratio to conflictology, bias ratio, Brier, last value's Brier (all from sums)."""
    m = len(w)
    bias = sum(w[i] * r["mean"][i] for i in range(m)) / r["obs"] if r["obs"] > 0 else float("nan")
    brier = (sum(w[i] * w[j] * r["pp"][i][j] for i in range(m) for j in range(m))
             - 2 * sum(w[i] * r["po"][i] for i in range(m)) + r["any"]) / r["n"]
    return crps(r, w) / r["conf"], bias, brier, r["brier_last"] / r["n"]


def solve(a, mat):
    """Gaussian elimination with partial pivoting; None if singular."""
    n = len(a)
    m = [row[:] + [b] for row, b in zip(mat, a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-14:
            return None
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def simplex_qp(q, c, allowed=None):
    """Minimise 1/2 w'Qw + c'w over the simplex (Q positive semi-definite on it): the best
    stationary point over every active set with w >= 0."""
    m = len(c)
    idx = allowed or list(range(m))
    best = None
    for size in range(1, len(idx) + 1):
        for s in itertools.combinations(idx, size):
            # KKT on the face: Q_ss w + c_s + mu 1 = 0, sum w = 1
            mat = [[q[i][j] for j in s] + [1.0] for i in s] + [[1.0] * size + [0.0]]
            rhs = [-c[i] for i in s] + [1.0]
            x = solve(rhs, mat)
            if x is None or any(v < -1e-12 for v in x[:size]):
                continue
            w = [0.0] * m
            for i, v in zip(s, x[:size]):
                w[i] = max(v, 0.0)
            f = 0.5 * sum(w[i] * w[j] * q[i][j] for i in range(m) for j in range(m)) + sum(
                c[i] * w[i] for i in range(m))
            if best is None or f < best[0] - 1e-15:
                best = (f, w)
    return best[1]


def pool_weights(r, scale=1.0, prior=None, tau=0.0):
    """Weights minimising CRPS(r, w) / scale + tau ||w - prior||^2 on the simplex."""
    m = len(r["ey"])
    q = [[-r["ex"][i][j] / scale + (2 * tau if i == j else 0.0) for j in range(m)] for i in range(m)]
    c = [r["ey"][i] / scale - (2 * tau * prior[i] if tau else 0.0) for i in range(m)]
    return simplex_qp(q, c)


def fmt(w):
    return " ".join(f"{n[:4]} {x:.2f}" for n, x in zip(NAMES, w) if x > 0.005)


def oracle(path):
    rows = read(path, False)
    passing = 0
    for r in rows:
        w = pool_weights(r)
        ratio, bias, brier, bl = stats(r, w)
        # with the bias bar: a grid of step 0.05 over the five weights
        best = None
        for parts in itertools.product(range(21), repeat=4):
            if sum(parts) > 20:
                continue
            wb = [x / 20 for x in parts] + [(20 - sum(parts)) / 20]
            rb, bb, _, _ = stats(r, wb)
            if 0.8 <= bb <= 1.25 and (best is None or rb < best[0]):
                best = (rb, bb, wb)
        hr = stats(r, [1, 0, 0, 0, 0])[0]
        ok = best is not None and best[0] <= 0.95
        passing += ok
        bar = f"{best[0]:.3f} bias {best[1]:.2f}" if best else "none"
        print(f"{r['name']:<40} {r['h']} hurdle {hr:.3f} | oracle {ratio:.3f} bias {bias:.2f} [{fmt(w)}] "
              f"| within bias bar {bar} {'reachable' if ok else 'UNREACHABLE'}")
    print(f"rows where a pool within the bias bar reaches <= 0.95 in hindsight: {passing} of {len(rows)}")


SCORED = None  # (name, h, origin) scored, from --score-like; None = all


def oracle_origins(path):
    by = {}
    for r in read(path, True):
        by.setdefault((r["name"], r["h"]), []).append(r)
    for (name, h), rs in by.items():
        best = sum(crps(r, pool_weights(r)) for r in rs if r["n"] > 0)
        conf = sum(r["conf"] for r in rs)
        mean = sum(sum(wi * mi for wi, mi in zip(pool_weights(r), r["mean"])) for r in rs)
        obs = sum(r["obs"] for r in rs)
        bias = f"{mean / obs:.2f}" if obs > 0 else "nan"
        print(f"{name:<40} {h} oracle per origin {best / conf:.3f} bias {bias}")


def online_rows(rows, half_life, tau):
    """Per (set, horizon): the sums of the online pool (its CRPS, mean, Brier) over origins."""
    by = {}
    for r in rows:
        by.setdefault((r["name"], r["h"]), []).append(r)
    out = []
    for (name, h), rs in by.items():
        rs.sort(key=lambda r: r["origin"])
        hn = int(h[1:])
        tot = dict(crps=0.0, mean=0.0, brier=0.0, obs=0.0, n=0.0, conf=0.0, brier_last=0.0, fixed=0.0)
        ws = []
        for k, r in enumerate(rs):
            past = rs[:max(0, k - hn + 1)]  # origins k' with k' + h <= k
            w = FIXED
            if past:
                acc = None
                weight = 0.0
                for j, pr in enumerate(past):
                    s = 0.5 ** ((len(past) - 1 - j) / half_life) if half_life else 1.0
                    acc = add(acc, pr, s)
                    weight += s
                scale = crps(acc, FIXED)
                if scale > 0:
                    w = pool_weights(acc, scale, FIXED, tau / weight)
            if SCORED is not None and (name, h, r["origin"]) not in SCORED:
                continue
            ws.append(w)
            tot["crps"] += crps(r, w)
            tot["fixed"] += crps(r, FIXED)
            tot["mean"] += sum(wi * mi for wi, mi in zip(w, r["mean"]))
            m = len(w)
            tot["brier"] += (sum(w[i] * w[j] * r["pp"][i][j] for i in range(m) for j in range(m))
                             - 2 * sum(w[i] * r["po"][i] for i in range(m)) + r["any"])
            for key in ("obs", "n", "conf", "brier_last"):
                tot[key] += r[key]
        last_w = ws[-1]
        out.append(dict(name=name, h=h, ratio=tot["crps"] / tot["conf"], fixed=tot["fixed"] / tot["conf"],
                        bias=tot["mean"] / tot["obs"] if tot["obs"] > 0 else float("nan"),
                        brier=tot["brier"] / tot["n"], brier_last=tot["brier_last"] / tot["n"], last_w=last_w))
    return out


def passes(o):
    return o["ratio"] <= 0.95 and o["brier"] < o["brier_last"] and 0.8 <= o["bias"] <= 1.25


def summary(out, label):
    for part in ("tune:", "held:"):
        rs = [o for o in out if o["name"].startswith(part)]
        if not rs:
            continue
        mean = sum(o["ratio"] for o in rs) / len(rs)
        fixed = sum(o["fixed"] for o in rs) / len(rs)
        print(f"{label} {part} {len(rs)} rows: mean ratio {mean:.4f} (fixed pool {fixed:.4f}), "
              f"passing {sum(passes(o) for o in rs)}")


def online(path, args):
    rows = read(path, True)
    if args:
        out = online_rows(rows, float(args[0]), float(args[1]))
        for o in out:
            print(f"{o['name']:<40} {o['h']} online {o['ratio']:.3f} (fixed {o['fixed']:.3f}) bias {o['bias']:.2f} "
                  f"brier {o['brier']:.4f}<{o['brier_last']:.4f} {'PASS' if passes(o) else 'fail'} "
                  f"last weights [{fmt(o['last_w'])}]")
        summary(out, f"half-life {args[0]} tau {args[1]}")
        return
    tune = [r for r in rows if r["name"].startswith("tune:")]
    best = None
    for half_life in (0, 6, 12, 24):
        for tau in (0.003, 0.01, 0.03, 0.1, 0.3):
            out = online_rows(tune, half_life, tau)
            ok = all(0.82 <= o["bias"] <= 1.23 for o in out)
            mean = sum(o["ratio"] for o in out) / len(out)
            print(f"tune: half-life {half_life or 'inf'} tau {tau}: mean ratio {mean:.4f} "
                  f"(fixed {sum(o['fixed'] for o in out) / len(out):.4f}) bias ok {ok}", flush=True)
            if ok and (best is None or mean < best[0]):
                best = (mean, half_life, tau)
    print(f"chosen on tuning rows: half-life {best[1] or 'inf'} tau {best[2]}")
    online(path, [str(best[1]), str(best[2])])


if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--score-like" in argv:
        k = argv.index("--score-like")
        ref = argv[k + 1]
        argv = argv[:k] + argv[k + 2:]
        SCORED = set()
        for line in open(ref):
            name, h, origin = line.split("\t", 3)[:3]
            SCORED.add((name, h, origin))
    if argv[0] == "oracle":
        oracle(argv[1])
    elif argv[0] == "oracle-origins":
        oracle_origins(argv[1])
    else:
        online(argv[1], argv[2:])
