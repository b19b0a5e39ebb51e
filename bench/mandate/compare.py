"""Compares `vitalcore mandate tag --format json` with the Python peer's rows
on the paragraphs without points and the points without sub-points (where
both tools tag the same text). usage: python compare.py VITALCORE.json PEER.tsv"""
import json
import sys


def leaves(points, symbol, out, eids):
    for p in points:
        if p["points"]:
            leaves(p["points"], symbol, out, eids)
        else:
            eids.add((symbol, p["eid"]))
            out.update((symbol, p["eid"], t) for t in p["tasks"])


def main():
    vc, eids = set(), set()
    for r in json.load(open(sys.argv[1]))["resolutions"]:
        for p in r["paragraphs"]:
            if p["kind"] != "operative":
                continue
            if p["points"]:
                leaves(p["points"], r["symbol"], vc, eids)
            else:
                eids.add((r["symbol"], p["eid"]))
                vc.update((r["symbol"], p["eid"], t) for t in p["tasks"])
    peer = set()
    for line in open(sys.argv[2]):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 3 and (parts[0], parts[1]) in eids:
            peer.add(tuple(parts))
    both = len(vc & peer)
    print(f"compared units: {len(eids)}; (unit, task) rows: vitalcore {len(vc)}, peer {len(peer)}, "
          f"both {both}, agreement (Jaccard) {both / max(1, len(vc | peer)):.3f}")


if __name__ == "__main__":
    main()
