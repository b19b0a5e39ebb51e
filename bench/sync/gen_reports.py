"""Writes N community reports straight into an office's SQLite database, as
intake stores them (references in the office's reference space, a sealed
contact of real length, tags), so that the sync benchmark does not time
intake. Usage: gen_reports.py OFFICE.db N SPACE AREA [SEED]"""
import base64, random, sqlite3, sys, time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

def reference(n):
    values = [(n >> (i * 5)) & 31 for i in range(5, -1, -1)]
    check = sum((i + 1) * v for i, v in enumerate(values)) % 31
    s = "".join(CROCKFORD[v] for v in values)
    return f"VC-{s[:4]}-{s[4:]}{CROCKFORD[check]}"

WORDS = ("des hommes armés ont attaqué le village pillé le marché brûlé maisons "
         "enlevé deux femmes route barrée checkpoint taxe illégale blessés déplacés "
         "armed men attacked the village looted market burned houses abducted road "
         "blocked illegal tax wounded displaced near the river school health centre").split()

def main():
    path, n, space, area = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 42)
    db = sqlite3.connect(path)
    used = set(r[0] for r in db.execute("SELECT reference FROM reports"))
    rows = []
    t0 = 1_764_000_000_000_000_000
    while len(rows) < n:
        ref = reference((space << 25) | rng.getrandbits(25))
        if ref in used:
            continue
        used.add(ref)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30))) + f" ({rng.randint(1, 40)} personnes)"
        sealed = "vc1.1a2b3c4d." + base64.urlsafe_b64encode(rng.randbytes(24 + 13 + 16)).decode().rstrip("=")
        rows.append((ref, t0 + len(rows) * 1_000_000_000, text, rng.choice(["fr", "en", "sg"]), area,
                     f"r-{rng.getrandbits(40):010x}", sealed, rng.choice(["personal", "community;political", "personal;political"]),
                     rng.randint(1, 4)))
    start = time.time()
    with db:
        db.executemany(
            "INSERT INTO reports (reference, received_ns, text, language, area_pcode, reporter_id, contact, channel, "
            "verification, dimensions, themes, severity, rule) VALUES (?, ?, ?, ?, ?, ?, ?, 'web_form', 'unverified', ?, "
            "'protection_of_civilians', ?, 'lexicon')", rows)
    print(f"{n} reports written in {time.time() - start:.1f} s", file=sys.stderr)

main()
