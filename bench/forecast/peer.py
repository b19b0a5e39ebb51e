"""Peer side of the forecast scoring benchmark.

  peer.py gen DIR ROWS N SEED      write DIR/obs.f64 and DIR/draws.u16
  peer.py score DIR N              time properscoring, xskillscore and the VIEWS
                                   ignorance / interval scores; write DIR/peer.f64
  peer.py compare DIR              compare DIR/peer.f64 with DIR/vitalcore.f64

The ignorance and interval scores are not in properscoring or xskillscore; the
VIEWS 2023/24 prediction competition computes them with its own numpy code
(IgnoranceScore.py, IntervalScore.py). Here they are vectorised numpy
transcriptions of those definitions: bins 0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5,
100.5, 250.5, 500.5, 1000.5 with one pseudo-draw per bin; central 95% interval
from np.quantile (linear).
"""
import json
import sys
import time

import numpy as np

CHUNK = 20_000
EDGES = np.array([0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5])


def gen(d, rows, n, seed):
    """Real-like forecast draws: most unit-months have a small chance of any
    fatality, a minority are active with heavy-tailed (log-normal) sizes."""
    rng = np.random.default_rng(seed)
    obs = np.empty(rows)
    with open(f"{d}/draws.u16", "wb") as f:
        for lo in range(0, rows, CHUNK):
            m = min(CHUNK, rows - lo)
            active = rng.random(m) < 0.15
            p = np.where(active, rng.uniform(0.2, 1.0, m), rng.uniform(0.0, 0.05, m))
            mu = np.where(active, rng.normal(1.5, 1.0, m), rng.normal(0.3, 0.5, m))
            nz = rng.random((m, n)) < p[:, None]
            size = np.rint(np.exp(mu[:, None] + rng.normal(0, 1.0, (m, n))))
            draws = np.where(nz, np.maximum(size, 1), 0).clip(0, 65535).astype("<u2")
            f.write(draws.tobytes())
            hit = rng.random(m) < p
            obs[lo:lo + m] = np.where(hit, np.maximum(np.rint(np.exp(mu + rng.normal(0, 1.0, m))), 1), 0)
    obs.astype("<f8").tofile(f"{d}/obs.f64")


def ignorance(obs, fc):
    b_fc = np.digitize(fc, EDGES) - 1
    b_obs = np.digitize(obs, EDGES) - 1
    count = (b_fc == b_obs[:, None]).sum(axis=1) + 1
    return -np.log2(count / (fc.shape[1] + len(EDGES)))


def interval(obs, fc, level=0.95):
    alpha = 1 - level
    lower = np.quantile(fc, alpha / 2, axis=-1)
    upper = np.quantile(fc, 1 - alpha / 2, axis=-1)
    return (upper - lower) + (2 / alpha) * (lower - obs) * (obs < lower) + (2 / alpha) * (obs - upper) * (obs > upper)


def score(d, n):
    import properscoring as ps
    import xarray as xr
    import xskillscore as xs

    obs = np.fromfile(f"{d}/obs.f64", dtype="<f8")
    fc = np.fromfile(f"{d}/draws.u16", dtype="<u2").reshape(len(obs), n).astype(np.float64)
    rows = len(obs)
    out = np.empty((3, rows))
    t = {}

    def timed(name, fn):
        s, c = time.perf_counter(), time.process_time()
        fn()
        t[name] = time.perf_counter() - s
        t[name.replace("_s", "_cpu_s")] = time.process_time() - c

    def crps_ps():
        for lo in range(0, rows, CHUNK):
            out[0, lo:lo + CHUNK] = ps.crps_ensemble(obs[lo:lo + CHUNK], fc[lo:lo + CHUNK])

    def crps_xs():
        for lo in range(0, rows, CHUNK):
            o = xr.DataArray(obs[lo:lo + CHUNK], dims=["row"])
            f = xr.DataArray(fc[lo:lo + CHUNK], dims=["row", "member"])
            r = xs.crps_ensemble(o, f, member_dim="member", dim=[]).values
            if not np.allclose(r, out[0, lo:lo + CHUNK], rtol=1e-12, atol=0):
                raise SystemExit("xskillscore and properscoring disagree")

    def ign():
        for lo in range(0, rows, CHUNK):
            out[1, lo:lo + CHUNK] = ignorance(obs[lo:lo + CHUNK], fc[lo:lo + CHUNK])

    def intv():
        for lo in range(0, rows, CHUNK):
            out[2, lo:lo + CHUNK] = interval(obs[lo:lo + CHUNK], fc[lo:lo + CHUNK])

    # warm-up: properscoring compiles its numba kernel on first use
    ps.crps_ensemble(obs[:10], fc[:10])
    xs.crps_ensemble(xr.DataArray(obs[:10], dims=["row"]), xr.DataArray(fc[:10], dims=["row", "member"]), member_dim="member", dim=[])
    timed("crps_properscoring_s", crps_ps)
    timed("crps_xskillscore_s", crps_xs)
    timed("ign_s", ign)
    timed("interval_s", intv)
    out.astype("<f8").tofile(f"{d}/peer.f64")
    t = {k: round(v, 4) for k, v in t.items()}
    print(json.dumps({"rows": rows, **t}))


def compare(d):
    a = np.fromfile(f"{d}/peer.f64", dtype="<f8").reshape(3, -1)
    b = np.fromfile(f"{d}/vitalcore.f64", dtype="<f8").reshape(3, -1)
    worst = {}
    for i, name in enumerate(["crps", "ign", "interval"]):
        rel = np.abs(a[i] - b[i]) / np.maximum(np.abs(a[i]), 1e-300)
        rel[(a[i] == b[i])] = 0.0
        worst[name] = float(rel.max())
    ok = all(v <= 1e-9 for v in worst.values())
    print(json.dumps({"max_relative_difference": worst, "agree_1e-9": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "score":
        score(sys.argv[2], int(sys.argv[3]))
    elif cmd == "compare":
        compare(sys.argv[2])
