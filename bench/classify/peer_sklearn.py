"""Peer for `vitalcore classify`: scikit-learn TF-IDF (word 1-2 grams) +
one-vs-rest LogisticRegression(class_weight="balanced"), trained on the same
examples and label mapping, scored with the same metric definitions.

usage: peer_sklearn.py DATA_DIR [--text-column both|message] > result.json
"""
import argparse
import csv
import json
import statistics
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

VECTORIZER_OPTIONS = json.loads(__import__("os").environ.get("PEER_TFIDF_OPTIONS", "{}"))
DIMENSIONS = ["economic", "food", "health", "environmental", "personal", "community", "political"]


def read_crosswalk(path):
    mapping = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            labels = [x for x in (row["dimension"].strip(), row["theme"].strip()) if x]
            mapping[row["category"].strip()] = labels
    labels = []
    for ls in mapping.values():
        for l in ls:
            if l not in labels:
                labels.append(l)
    return mapping, labels


def read_rows(path, mapping, labels):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            y = [0] * len(labels)
            for cat, ls in mapping.items():
                v = row[cat].strip()
                if v not in ("", "0"):
                    for l in ls:
                        y[labels.index(l)] = 1
            rows.append((row["message"].strip(), row.get("original", "").strip(), y))
    return rows


def metrics(y_true, y_pred, labels):
    out = {"dimensions": {}, "themes": {}}
    tp_sum = fp_sum = fn_sum = 0
    f1s = []
    for j, label in enumerate(labels):
        tp = int(((y_true[:, j] == 1) & (y_pred[:, j] == 1)).sum())
        fp = int(((y_true[:, j] == 0) & (y_pred[:, j] == 1)).sum())
        fn = int(((y_true[:, j] == 1) & (y_pred[:, j] == 0)).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
        entry = {"precision": p, "recall": r, "f1": f1, "support": tp + fn}
        if label in DIMENSIONS:
            out["dimensions"][label] = entry
            if tp + fn > 0:
                f1s.append(f1)
                tp_sum, fp_sum, fn_sum = tp_sum + tp, fp_sum + fp, fn_sum + fn
        else:
            out["themes"][label] = entry
    out["macro_f1"] = sum(f1s) / len(f1s) if f1s else None
    out["micro_f1"] = 2 * tp_sum / (2 * tp_sum + fp_sum + fn_sum) if f1s else None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--text-column", default="both", choices=["both", "message"])
    args = ap.parse_args()
    mapping, labels = read_crosswalk(f"{args.data_dir}/crosswalk.csv")
    train = read_rows(f"{args.data_dir}/train.csv", mapping, labels)
    valid = read_rows(f"{args.data_dir}/validation.csv", mapping, labels)

    texts, ys = [], []
    for message, original, y in train:
        if message:
            texts.append(message)
            ys.append(y)
        if args.text_column == "both" and original and original != message:
            texts.append(original)
            ys.append(y)
    y_train = np.array(ys)
    # Labels with no positive (e.g. child_alone) cannot be fitted; predict 0.
    fit_cols = [j for j in range(len(labels)) if 0 < y_train[:, j].sum() < len(y_train)]

    t0 = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), **VECTORIZER_OPTIONS)
    x_train = vectorizer.fit_transform(texts)
    model = OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=1000))
    model.fit(x_train, y_train[:, fit_cols])
    train_seconds = time.perf_counter() - t0

    def predict(batch):
        pred = np.zeros((len(batch), len(labels)), dtype=int)
        pred[:, fit_cols] = model.predict(vectorizer.transform(batch))
        return pred

    result = {"labels": labels, "train_seconds": train_seconds, "train_examples": len(texts)}
    for column in ("message", "original"):
        pairs = [(m if column == "message" else o, y) for m, o, y in valid]
        pairs = [(t, y) for t, y in pairs if t]
        batch = [t for t, _ in pairs]
        y_true = np.array([y for _, y in pairs])
        # Predicted again until 0.5 s have passed, as `vitalcore classify
        # evaluate --timing` does: both sides are timed in steady state.
        seconds, passes = 0.0, 0
        while passes == 0 or seconds < 0.5:
            t0 = time.perf_counter()
            y_pred = predict(batch)
            seconds += time.perf_counter() - t0
            passes += 1
        result[column] = metrics(y_true, y_pred, labels)
        result[column]["messages"] = len(batch)
        result[column]["passes"] = passes
        result[column]["messages_per_second"] = len(batch) * passes / seconds
    # Single-message latency: one message at a time, as a server would.
    single = []
    for t in [m for m, _, _ in valid if m][:300]:
        t0 = time.perf_counter()
        predict([t])
        single.append((time.perf_counter() - t0) * 1e6)
    result["latency_us_median"] = statistics.median(single)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
