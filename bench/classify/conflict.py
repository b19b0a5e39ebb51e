"""Conflict-incident texts next to disaster messages: per-dimension precision
and recall of `vitalcore classify` (trained model and lexicon alone).

Run through conflict.sh (it builds vitalcore). usage:
  conflict.py DISASTER_DIR OUT_DIR ACLED_FILE... -- VITALCORE_CMD...
DISASTER_DIR needs train.csv, validation.csv, crosswalk.csv; ACLED_FILE are
ACLED exports (csv or zip, old or current schema); VITALCORE_CMD is the
command up to and including `classify`. Environment: MODEL (an existing
model file to evaluate instead of training one in OUT_DIR).

The conflict files are weakly labelled and split by country by
conflict_labels.py (see its docstring); they are written to OUT_DIR, never
to the repository. Prints a Markdown report and writes OUT_DIR/report.json.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{res.stderr}")
    return res.stdout


def evaluate(vc, model, data, crosswalk):
    cmd = vc + ["evaluate", "--data", data, "--crosswalk", crosswalk, "--format", "json", "--quiet"]
    if model:
        cmd += ["--model", model]
    report = json.loads(run(cmd))
    return {**report["dimensions"], **report.get("themes", {}), "macro_f1": report.get("macro_f1")}


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 4:
        sys.exit(__doc__)
    split = args.index("--")
    (disaster, out, *acled), vc = args[:split], args[split + 1:]
    os.makedirs(out, exist_ok=True)
    counts = json.loads(run([sys.executable, os.path.join(HERE, "conflict_labels.py"), out, *acled]))
    model = os.environ.get("MODEL")
    if not model:
        model = os.path.join(out, "vitalcore.model")
        run(vc + ["train", "--data", os.path.join(disaster, "train.csv"), "--crosswalk",
                  os.path.join(disaster, "crosswalk.csv"), "--out", model, "--quiet"])
    conflict_cw = os.path.join(out, "crosswalk.csv")
    files = {"disaster validation": (os.path.join(disaster, "validation.csv"), os.path.join(disaster, "crosswalk.csv"))}
    for s in ("tune", "heldout"):
        files[s] = (os.path.join(out, f"{s}.csv"), conflict_cw)
        for kind in ("food", "sexual_violence", "health_care"):
            files[f"{s}-{kind}"] = (os.path.join(out, f"{s}-{kind}.csv"), conflict_cw)
    report = {"model": model, "counts": counts, "model_reading": {}, "lexicon_reading": {}}
    for name, (data, cw) in files.items():
        report["model_reading"][name] = evaluate(vc, model, data, cw)
        report["lexicon_reading"][name] = evaluate(vc, None, data, cw)
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)

    def pr(m, label):
        x = m.get(label)
        if not x or not x["support"]:
            return "-"
        return f"{x['precision']:.3f} / {x['recall']:.3f} ({x['support']})"

    print(f"model: {model}\n")
    for reading in ("model_reading", "lexicon_reading"):
        r = report[reading]
        print(f"### {reading.replace('_', ' ')}: precision / recall (positives)\n")
        print("| dimension | disaster validation | conflict tune | conflict held out |")
        print("|---|---|---|---|")
        for label in ("food", "personal", "health", "conflict_related_sexual_violence"):
            print(f"| {label} | {pr(r['disaster validation'], label)} | {pr(r['tune'], label)} | "
                  f"{pr(r['heldout'], label)} |")
        print(f"| macro-F1 (disaster crosswalk) | {r['disaster validation']['macro_f1']:.4f} | | |\n")
        print("| incidents | dimension | recall, tune | recall, held out |")
        print("|---|---|---|---|")
        for kind, label in (("food", "food"), ("sexual_violence", "personal"), ("health_care", "health")):
            t, h = r[f"tune-{kind}"].get(label), r[f"heldout-{kind}"].get(label)
            fmt = lambda x: f"{x['recall']:.3f} ({x['support']})" if x and x["support"] else "-"
            print(f"| {kind} | {label} | {fmt(t)} | {fmt(h)} |")
        print()


if __name__ == "__main__":
    main()
