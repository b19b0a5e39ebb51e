"""Side-by-side benchmark: vitalcore classify vs the scikit-learn peer.

Run through run.sh (it creates the virtual environment and builds vitalcore).
usage: compare.py DATA_DIR VITALCORE_CMD... (the command up to and including `classify`)
Environment: RUNS (default 3) interleaved repetitions; OUT (default bench/out/classify).
"""
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{res.stderr}")
    return res


def timing_line(stderr):
    for line in stderr.splitlines():
        if line.startswith("timing: "):
            return json.loads(line[len("timing: "):])
    raise RuntimeError("no timing line in:\n" + stderr)


def peer(data_dir, options):
    env = dict(os.environ, PEER_TFIDF_OPTIONS=json.dumps(options))
    res = run([PY, os.path.join(HERE, "peer_sklearn.py"), data_dir], env=env)
    return json.loads(res.stdout)


def vitalcore(data_dir, vc, out):
    d = lambda f: os.path.join(data_dir, f)
    model = os.path.join(out, "vitalcore.model")
    t0 = time.perf_counter()
    run(vc + ["train", "--data", d("train.csv"), "--crosswalk", d("crosswalk.csv"), "--out", model, "--quiet"])
    train_seconds = time.perf_counter() - t0
    result = {"train_seconds": train_seconds, "model_bytes": os.path.getsize(model)}
    for column in ("message", "original"):
        res = run(vc + ["evaluate", "--model", model, "--data", d("validation.csv"), "--crosswalk", d("crosswalk.csv"),
                        "--text-column", column, "--format", "json", "--timing", "--quiet"])
        result[column] = json.loads(res.stdout)
        result[column]["timing"] = timing_line(res.stderr)
        lex = run(vc + ["evaluate", "--data", d("validation.csv"), "--crosswalk", d("crosswalk.csv"),
                        "--text-column", column, "--format", "json", "--quiet"])
        result["lexicon_" + column] = json.loads(lex.stdout)
    return result, model


def check_agreement(data_dir, vc, model, report, peer_report):
    """The predictions vitalcore prints, scored by the peer's own metric code,
    must give the figures `vitalcore classify evaluate` printed; supports
    must match the peer's (same rows, same label mapping)."""
    sys.path.insert(0, HERE)
    import numpy as np
    import peer_sklearn as p

    mapping, labels = p.read_crosswalk(os.path.join(data_dir, "crosswalk.csv"))
    rows = [r for r in p.read_rows(os.path.join(data_dir, "validation.csv"), mapping, labels) if r[0]]
    res = run(vc + ["predict", "--model", model, "--data", os.path.join(data_dir, "validation.csv")])
    lines = [json.loads(l) for l in res.stdout.splitlines()]
    lines = [l for l in lines if l["text"].strip()]
    assert len(lines) == len(rows), (len(lines), len(rows))
    y_true = np.array([y for _, _, y in rows])
    y_pred = np.array([[1 if lab in l["labels"] else 0 for lab in labels] for l in lines])
    recomputed = p.metrics(y_true, y_pred, labels)
    problems = []
    for name, m in report["dimensions"].items():
        for key in ("precision", "recall", "f1", "support"):
            if abs(m[key] - recomputed["dimensions"][name][key]) > 1e-9:
                problems.append(f"{name}.{key}: vitalcore {m[key]} vs recomputed {recomputed['dimensions'][name][key]}")
        if m["support"] != peer_report["dimensions"][name]["support"]:
            problems.append(f"{name}: support {m['support']} vs peer {peer_report['dimensions'][name]['support']}")
    for key in ("macro_f1", "micro_f1"):
        if abs(report[key] - recomputed[key]) > 1e-9:
            problems.append(f"{key}: vitalcore {report[key]} vs recomputed {recomputed[key]}")
    return problems


def med(xs):
    return statistics.median(xs)


def main():
    data_dir, vc = sys.argv[1], sys.argv[2:]
    runs = int(os.environ.get("RUNS", "3"))
    out = os.environ.get("OUT", os.path.join(HERE, "..", "out", "classify"))
    os.makedirs(out, exist_ok=True)
    ours, peers = [], []
    for i in range(runs):
        print(f"run {i + 1}/{runs}: scikit-learn peer ...", file=sys.stderr)
        peers.append(peer(data_dir, {}))
        print(f"run {i + 1}/{runs}: vitalcore ...", file=sys.stderr)
        r, model = vitalcore(data_dir, vc, out)
        ours.append(r)
    print("scikit-learn peer with sublinear_tf, min_df=2 (once) ...", file=sys.stderr)
    tuned = peer(data_dir, {"sublinear_tf": True, "min_df": 2})
    problems = check_agreement(data_dir, vc, model, ours[-1]["message"], peers[-1]["message"])

    v, p0 = ours[-1], peers[-1]
    json.dump({"vitalcore": ours, "peer_default": peers, "peer_sublinear_mindf2": tuned},
              open(os.path.join(out, "results.json"), "w"), indent=1)

    def row(name, rep):
        dims = rep["dimensions"]
        cells = " ".join(f"{dims[k]['f1']:.3f}" if k in dims else "  -  " for k in order)
        return f"{name:<34} {cells}  {rep['macro_f1']:.3f}  {rep['micro_f1']:.3f}"

    order = sorted(v["message"]["dimensions"])
    header = f"{'validation F1':<34} " + " ".join(f"{k[:5]:>5}" for k in order) + "  macro  micro"
    for column in ("message", "original"):
        n = v[column]["timing"]["messages"]
        print(f"\n== `{column}` column ({n} messages with text)")
        print(header)
        print(row("vitalcore", v[column]))
        print(row("vitalcore lexicon alone", v["lexicon_" + column]))
        print(row("sklearn peer (defaults)", p0[column]))
        print(row("sklearn peer (sublinear, min_df=2)", tuned[column]))

    v_train = med([r["train_seconds"] for r in ours])
    p_train = med([r["train_seconds"] for r in peers])
    v_tput = med([r["message"]["timing"]["messages_per_second"] for r in ours])
    p_tput = med([r["message"]["messages_per_second"] for r in peers])
    v_tput2 = med([r["message"]["timing"]["messages_per_second_2_threads"] for r in ours])
    v_lat = med([r["message"]["timing"]["latency_us_median"] for r in ours])
    p_lat = med([r["latency_us_median"] for r in peers])
    print(f"\n== speed, medians of {runs} interleaved runs (validation `message`; one thread unless said)")
    print(f"training (wall, incl. CSV reading)   vitalcore {v_train:8.2f} s    peer {p_train:8.2f} s    ratio {p_train / v_train:6.1f}x")
    print(f"prediction throughput               vitalcore {v_tput:8.0f}/s    peer {p_tput:8.0f}/s    ratio {v_tput / p_tput:6.1f}x")
    print(f"prediction throughput, 2 threads    vitalcore {v_tput2:8.0f}/s    peer (1 thread) {p_tput:8.0f}/s    ratio {v_tput2 / p_tput:6.1f}x")
    print(f"single-message latency (median)     vitalcore {v_lat:8.1f} us   peer {p_lat:8.1f} us")
    print(f"model file                          vitalcore {v['model_bytes'] / 1e6:8.1f} MB")

    vm, pm, tm = v["message"], p0["message"], tuned["message"]
    bars = [
        ("macro-F1 >= peer(defaults) + 0.05", vm["macro_f1"] >= pm["macro_f1"] + 0.05, f"{vm['macro_f1']:.3f} vs {pm['macro_f1']:.3f}"),
        ("macro-F1 >= peer(sublinear) + 0.05", vm["macro_f1"] >= tm["macro_f1"] + 0.05, f"{vm['macro_f1']:.3f} vs {tm['macro_f1']:.3f}"),
        ("micro-F1 >= both peers", vm["micro_f1"] >= max(pm["micro_f1"], tm["micro_f1"]), f"{vm['micro_f1']:.3f} vs {pm['micro_f1']:.3f} / {tm['micro_f1']:.3f}"),
        ("original: model beats lexicon (macro)", v["original"]["macro_f1"] > v["lexicon_original"]["macro_f1"],
         f"{v['original']['macro_f1']:.3f} vs {v['lexicon_original']['macro_f1']:.3f}"),
        ("original: model beats lexicon (micro)", v["original"]["micro_f1"] > v["lexicon_original"]["micro_f1"],
         f"{v['original']['micro_f1']:.3f} vs {v['lexicon_original']['micro_f1']:.3f}"),
        ("training < 10 s", v_train < 10, f"{v_train:.2f} s"),
        ("throughput >= 10x peer (1 thread each)", v_tput >= 10 * p_tput, f"{v_tput / p_tput:.1f}x"),
        ("throughput >= 10x peer (2 threads vs 1)", v_tput2 >= 10 * p_tput, f"{v_tput2 / p_tput:.1f}x"),
        ("single message < 1 ms", v_lat < 1000, f"{v_lat:.1f} us"),
        ("model < 50 MB", v["model_bytes"] < 50e6, f"{v['model_bytes'] / 1e6:.1f} MB"),
    ]
    print("\n== bars")
    for name, ok, detail in bars:
        print(f"{'PASS' if ok else 'FAIL'}  {name:<40} {detail}")
    print("\n== agreement: vitalcore's printed predictions re-scored by the peer's metric code")
    print("agree" if not problems else "DISAGREE:\n  " + "\n  ".join(problems))
    print(f"\nload average at the end: {os.getloadavg()}; full results in {os.path.abspath(out)}/results.json")


if __name__ == "__main__":
    main()
