"""Summary of a bench/server/run.sh results file: per backend, binary, phase
and endpoint, the median over runs of each run's median and p95 latency,
the highest peak RSS, and the load average range. Standard library only."""

import csv
import statistics
import sys
from collections import defaultdict


def endpoint(path: str) -> str:
    if path == "all":
        return "all"
    name = path.split("?")[0].removeprefix("/api/v1/")
    return "profile" if name.endswith("/profile") else name


def main(path: str) -> None:
    groups = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            groups[(row["backend"], row["bin"], row["phase"], endpoint(row["path"]))].append(row)
    print("| backend | build | phase | endpoint | runs | requests/run | median ms | p95 ms | peak RSS MB | load avg |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---|")
    for (backend, build, phase, name), rows in groups.items():
        rss = max(int(r["peak_rss_mb"]) for r in rows)
        loads = sorted(float(r["load1"]) for r in rows)
        if phase == "resident":
            span = f"{loads[0]:.1f}-{loads[-1]:.1f}"
            print(f"| {backend} | {build} | resident after the runs | - | {len(rows)} | - | - | - | {rss:,} | {span} |")
            continue
        med = statistics.median(float(r["median_ms"]) for r in rows)
        p95 = statistics.median(float(r["p95_ms"]) for r in rows)
        failed = sum(int(r["failed"]) for r in rows)
        note = f" ({failed} failed)" if failed else ""
        print(
            f"| {backend} | {build} | {phase} | {name}{note} | {len(rows)} | {rows[0]['requests']} | "
            f"{med:,.1f} | {p95:,.1f} | {rss:,} | {loads[0]:.1f}-{loads[-1]:.1f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
