"""Moves the events of an ACLED-shaped CSV (`vitalcore generate acled`) into
Ouaka, Central African Republic (P-code CF43): country, ISO code, admin-1
name and coordinates near Bambari (5.76 N, 20.67 E, within 0.1 degree), so
that every event lies in one office's areas once boundaries are loaded.
Everything else (ids, dates, actors, notes) is kept. Usage:
    vitalcore generate acled --rows N | python3 to_ouaka.py > events.csv"""
import csv, random, sys

def main():
    rng = random.Random(16)
    rows = csv.reader(sys.stdin)
    out = csv.writer(sys.stdout, lineterminator="\n")
    header = next(rows)
    out.writerow(header)
    col = {name: i for i, name in enumerate(header)}
    for row in rows:
        row[col["country"]] = "Central African Republic"
        row[col["iso"]] = "140"
        row[col["region"]] = "Middle Africa"
        row[col["admin1"]] = "Ouaka"
        row[col["latitude"]] = f"{5.76 + rng.uniform(-0.1, 0.1):.4f}"
        row[col["longitude"]] = f"{20.67 + rng.uniform(-0.1, 0.1):.4f}"
        out.writerow(row)

main()
