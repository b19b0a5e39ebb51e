"""Checks that every tool produced the same table, then prints and records
medians, minimums, peak memory and ratios to vitalcore."""
import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys


def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    want = ["country", "admin1", "month", "events", "fatalities"]
    if header != want:
        sys.exit(f"{path}: header {header}, expected {want}")
    return sorted((c, a, m, int(e), int(f)) for c, a, m, e, f in body)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--times", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--versions", required=True)
    p.add_argument("--load", default="not recorded")
    p.add_argument("--write")
    a = p.parse_args()

    with open(a.times) as f:
        times = list(csv.DictReader(f, delimiter="\t"))
    tools = list(dict.fromkeys(t["tool"] for t in times))

    reference = load(os.path.join(a.results, "result-vitalcore.csv"))
    checks = []
    for tool in tools:
        got = load(os.path.join(a.results, f"result-{tool}.csv"))
        same = got == reference
        checks.append(f"- {tool}: {len(got)} groups, {sum(r[3] for r in got)} events, "
                      f"{sum(r[4] for r in got)} fatalities: {'identical to vitalcore' if same else 'DIFFERENT from vitalcore'}")
        if not same:
            missing = set(reference) ^ set(got)
            checks.append(f"  first differences: {sorted(missing)[:5]}")

    stats = {}
    for tool in tools:
        rows = [t for t in times if t["tool"] == tool]
        wall = [float(t["wall_s"]) for t in rows]
        job = [float(t["job_s"]) for t in rows]
        cpu = [float(t["cpu_s"]) for t in rows]
        rss = max(int(t["max_rss_kb"]) for t in rows)
        stats[tool] = (statistics.median(wall), min(wall), statistics.median(job), statistics.median(cpu), rss / 1024, len(rows))
    base_wall, base_job, base_cpu = stats["vitalcore"][0], stats["vitalcore"][2], stats["vitalcore"][3]
    # Paired ratios: each tool's job time over vitalcore's in the same round
    # (neighbouring runs see similar load on a shared machine).
    vc_job = {t["run"]: float(t["job_s"]) for t in times if t["tool"] == "vitalcore"}
    paired = {
        tool: [float(t["job_s"]) / vc_job[t["run"]] for t in times if t["tool"] == tool and t["run"] in vc_job]
        for tool in tools
    }
    lines = [
        "| tool | median wall s | min wall s | median job s | min job s | median CPU s | peak RSS MB | wall / vitalcore | job / vitalcore | CPU / vitalcore | paired job ratio, median (min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tool, (mw, lw, mj, mc, rss, n) in stats.items():
        lj = min(float(t["job_s"]) for t in times if t["tool"] == tool)
        pr = paired[tool]
        lines.append(
            f"| {tool} | {mw:.2f} | {lw:.2f} | {mj:.2f} | {lj:.2f} | {mc:.2f} | {rss:.0f} | {mw / base_wall:.2f} | "
            f"{mj / base_job:.2f} | {mc / base_cpu:.2f} | {statistics.median(pr):.2f} ({min(pr):.2f}) |"
        )
    size = os.path.getsize(a.file)
    runs = stats["vitalcore"][5]
    text = "\n".join([
        "# Ingest benchmark",
        "",
        "Job: count events and sum fatalities by country, admin1 and month of `event_date` from an",
        "ACLED-shaped CSV (synthetic, `vitalcore generate acled`), result written as sorted CSV.",
        "",
        f"- command: `{a.command}`",
        f"- input: `{os.path.basename(a.file)}`, {size / 1e6:.0f} MB",
        f"- machine: {machine()}",
        f"- peers: {a.versions}",
        f"- {runs} timed runs per tool, interleaved, after one untimed warm-up round (file in page cache).",
        "- wall = whole process (`/usr/bin/time`), including Python start-up and imports for the peers;",
        "  job = seconds inside the Python job (read, parse, group, write), measured with `time.perf_counter`;",
        "  for vitalcore job = wall. CPU = user + system seconds of the whole process (`/usr/bin/time` %U + %S).",
        "  Peak RSS is the maximum over runs (`/usr/bin/time` %M). Paired job ratio: a tool's job time over",
        "  vitalcore's in the same round, median and smallest over the rounds.",
        f"- load average (1, 5, 15 min) {a.load}: the machine is shared, so wall times",
        "  depend on what else runs; CPU times are steadier.",
        "",
        *lines,
        "",
        "What each tool runs (same input, same output table, sorted, written as CSV):",
        "",
        "- vitalcore: `vitalcore aggregate FILE --out OUT --quiet` (all cores; every date and fatality",
        "  value is validated and bad rows would be reported with file and line; quoting exactly as the `csv` crate).",
        "- polars: lazy `pl.scan_csv(FILE)` with `.select()` of the four columns (projection pushdown),",
        "  `str.to_date` + `dt.truncate(\"1mo\")`, `group_by(country, admin1, month)`, `collect()`;",
        "  polars-streaming: the same query with `collect(engine=\"streaming\")`. All cores.",
        "- duckdb: `COPY (SELECT ... FROM read_csv(FILE, types = ...) GROUP BY ALL ORDER BY ...) TO OUT`. All cores.",
        "- pandas: `read_csv(usecols = the four columns)`, `to_datetime`, `groupby`. One core.",
        "",
        "Results check (each tool's CSV compared, row for row, to vitalcore's):",
        "",
        *checks,
        "",
    ])
    print(text)
    if a.write:
        with open(a.write, "w") as f:
            f.write(text)
    if any("DIFFERENT" in c for c in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
