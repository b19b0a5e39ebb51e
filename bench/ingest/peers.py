"""The ingest job run by the Python peers: count events and sum fatalities by
country, admin1 and month of event_date, from an ACLED-shaped CSV file.

usage: peers.py TOOL FILE OUT [KEYS]
TOOL: polars | polars-streaming | duckdb | pandas
KEYS: grouping keys, comma-separated (default country,admin1,month; any of
country, admin1, admin2, location, month); only polars reads other keys.

Writes OUT as CSV (country,admin1,month,events,fatalities) sorted by keys and
prints the seconds spent inside the job (read + parse + group + write) on stdout.
"""
import sys
import time


def polars_job(path, out, streaming, keys=("country", "admin1", "month")):
    import polars as pl

    t = time.perf_counter()
    names = [k for k in keys if k != "month"]
    lf = pl.scan_csv(
        path,
        schema_overrides={**{n: pl.Utf8 for n in names}, "event_date": pl.Utf8, "fatalities": pl.Int64},
    )
    q = (
        lf.select(*names, "event_date", "fatalities")
        .with_columns(month=pl.col("event_date").str.to_date("%Y-%m-%d").dt.truncate("1mo"))
        .group_by(*keys)
        .agg(events=pl.len(), fatalities=pl.col("fatalities").sum())
    )
    if "month" in keys:
        q = q.with_columns(pl.col("month").dt.strftime("%Y-%m"))
    q = q.sort(*keys)
    df = q.collect(engine="streaming") if streaming else q.collect()
    df.write_csv(out)
    return time.perf_counter() - t


def duckdb_job(path, out):
    import duckdb

    t = time.perf_counter()
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
          SELECT country, admin1, strftime(date_trunc('month', event_date), '%Y-%m') AS month,
                 count(*) AS events, sum(fatalities)::BIGINT AS fatalities
          FROM read_csv('{path}', header = true, quote = '"', escape = '"',
                        types = {{'event_date': 'DATE', 'fatalities': 'BIGINT', 'country': 'VARCHAR', 'admin1': 'VARCHAR'}})
          GROUP BY ALL
          ORDER BY country, admin1, month
        ) TO '{out}' (HEADER, DELIMITER ',')
        """
    )
    return time.perf_counter() - t


def pandas_job(path, out):
    import pandas as pd

    t = time.perf_counter()
    df = pd.read_csv(
        path,
        usecols=["country", "admin1", "event_date", "fatalities"],
        dtype={"country": str, "admin1": str, "event_date": str, "fatalities": "int64"},
        keep_default_na=False,
    )
    df["month"] = pd.to_datetime(df["event_date"], format="%Y-%m-%d").dt.to_period("M")
    g = (
        df.groupby(["country", "admin1", "month"], sort=True)
        .agg(events=("fatalities", "size"), fatalities=("fatalities", "sum"))
        .reset_index()
    )
    g["month"] = g["month"].dt.strftime("%Y-%m")
    g.to_csv(out, index=False)
    return time.perf_counter() - t


def main():
    tool, path, out = sys.argv[1:4]
    keys = tuple(sys.argv[4].split(",")) if len(sys.argv) > 4 else ("country", "admin1", "month")
    jobs = {
        "polars": lambda: polars_job(path, out, streaming=False, keys=keys),
        "polars-streaming": lambda: polars_job(path, out, streaming=True, keys=keys),
        "duckdb": lambda: duckdb_job(path, out),
        "pandas": lambda: pandas_job(path, out),
    }
    print(f"{jobs[tool]():.3f}")


if __name__ == "__main__":
    main()
