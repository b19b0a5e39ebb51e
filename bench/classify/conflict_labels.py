"""Weakly labelled conflict-incident texts from ACLED `notes`, split by country.

usage: conflict_labels.py OUT_DIR ACLED_CSV_OR_ZIP...

Reads ACLED exports in the old (uppercase: EVENT_TYPE, NOTES, COUNTRY) or
current schema (event_type, sub_event_type, notes, country), zipped or not,
and writes into OUT_DIR (never into the repository: ACLED rows must not be
committed):

- `tune.csv`, `heldout.csv`: `id,message,food,personal,health,crsv` where the
  0/1 columns are weak labels (rules below), readable by
  `vitalcore classify evaluate --crosswalk OUT_DIR/crosswalk.csv`;
- `{tune,heldout}-{food,sexual_violence,health_care}.csv`: the incidents of
  one kind only (food insecurity caused by violence, sexual violence, attacks
  on health care), to read the recall of their dimension;
- `crosswalk.csv`: food -> food, personal -> personal, health -> health,
  crsv -> (theme) conflict_related_sexual_violence;
- `summary.json`: row and label counts per split.

The split is by country, fixed before any result was seen: a country is
held out when zlib.crc32(its name as written by ACLED) % 3 == 0 (2016 file:
Burkina Faso, Burundi, Cameroon, DR Congo, Kenya, Mozambique, Niger, Nigeria,
Tunisia, ... ; the DR Congo 2018 file is then held out whole). Tune on
`tune*.csv` only; report `heldout*.csv`.

Weak labels (from the event type and words of the note; a label is a guess,
not an annotation):
- food: violence that takes or destroys food or the means to produce it:
  livestock raided, stolen or looted; crops, fields, farms, granaries or food
  stocks burned, destroyed or looted; food or humanitarian aid, its convoy,
  trucks or warehouse looted, attacked or blocked; a market attacked,
  burned, looted or shelled; farmers or herders attacked, killed or
  abducted (unless the note is about their protest); people kept from their
  fields. "Hunger strike" is not food.
- sexual violence (personal + crsv): rape, sexual violence or abuse.
- health care attacked (health): a hospital, clinic, health centre, health
  or Ebola worker or team, ambulance, medical staff attacked, looted,
  burned, threatened or abducted.
- personal: a violent event type (battles, violence against civilians,
  remote violence) or a note saying people were killed, wounded, abducted,
  attacked, beaten, shot or raped; 0 for peaceful protests and strategic
  developments that say none of that.
- health: health care attacked, or people wounded/injured, or a disease.
"""
import csv
import io
import json
import os
import re
import sys
import zipfile
import zlib

W = r"(?:\W+\w+){0,%d}?\W+"  # up to N words between two terms


def near(a, b, n=8):
    """`a` then `b`, or `b` then `a`, within n words, in one sentence (no '.')."""
    gap = r"(?:[^\w.]+[\w']+){0,%d}?[^\w.]+" % n
    return re.compile(r"\b(?:%s)%s(?:%s)|\b(?:%s)%s(?:%s)" % (a, gap, b, b, gap, a), re.I)


HARM_TAKE = r"raid\w*|rustl\w*|loot\w*|pillag\w*|stole|stolen|steal\w*|theft|seiz\w*|confiscat\w*|took|taken|taking|made off|drove away|driven away|carried away|captur\w*|hijack\w*|divert\w*"
HARM_DESTROY = r"set\W+(?:\w+\W+){0,3}?(?:on fire|ablaze|alight)|burn\w*|burnt|torch\w*|set ablaze|set on fire|set fire|destroy\w*|destruct\w*|raz\w*|uproot\w*|ravag\w*|spoil\w*|poison\w*"
HARM_ATTACK = r"attack\w*|ambush\w*|shell\w*|bomb\w*|explo\w*|IED|grenade\w*|raid\w*|block\w*|obstruct\w*|prevent\w*|denied|stopp\w*|fire on|fired at|shot at|target\w*"
HARM_PERSON = r"kill\w*|murder\w*|shot|shoot\w*|attack\w*|abduct\w*|kidnap\w*|beat|beaten|hack\w*|slaughter\w*|massacr\w*|wound\w*|injur\w*|machete\w*"

LIVESTOCK = r"cattle|cows?|livestock|goats?|camels?|sheep|herds?|oxen|bulls?|animals|pigs?|poultry|chickens?"
CROPS = r"crops?|harvests?|farms?|farmland|fields?|granar\w*|grain|maize|sorghum|millet|cassava|rice|plantations?|food stores?|food stocks?|food reserves?|orchards?"
AID = r"food|food aid|relief|humanitarian|WFP|World Food|NGO convoy|aid (?:convoy|trucks?|workers?|agenc\w+|supplies|deliver\w*|distribution\w*|stocks?)|rations?"
GROWERS = r"farmers?|herders?|herdsm[ae]n|pastoralists?|cattle keepers?|shepherds?|peasants?|fishermen|growers?"
WHERE_WORK = r"farms?|fields?|gardens?|farmland|plantations?|grazing|pasture\w*|herds?|cattle|livestock|animals|crops?|harvest\w*"

FOOD_RULES = [
    near(LIVESTOCK, HARM_TAKE),
    re.compile(r"\bcattle[- ]?(?:raid\w*|rustl\w*|theft|thieves|rust\w*)|\brustl\w+|\blivestock (?:raid\w*|theft)", re.I),
    near(CROPS, HARM_DESTROY + "|" + HARM_TAKE),
    near(AID, HARM_TAKE),
    re.compile(r"\b(?:%s)\b(?:\W+\w+){0,3}?\W+(?:convoy|trucks?|lorr\w+|warehouses?|stores?|depots?)" % AID, re.I),
    near(r"(?:aid|relief|humanitarian|food|WFP)\W+(?:\w+\W+)?(?:convoy|trucks?|lorr\w+|warehouses?|depots?|distribution\w*)",
         HARM_TAKE + "|" + HARM_ATTACK + "|" + HARM_DESTROY),
    near(r"markets?|market place|marketplace", HARM_ATTACK + "|" + HARM_DESTROY + r"|loot\w*|pillag\w*|raid\w*", 6),
    near(r"(?:access|return|go|going)\W+(?:to\W+)?(?:their\W+)?(?:farms?|fields?|farmland)", r"unable|cannot|could not|prevent\w*|fear|afraid|denied|block\w*", 6),
]
FOOD_EXCLUDE = re.compile(r"hunger strike", re.I)
# Farmers or herders harmed, unless they were the protesters or rioters.
GROWERS_HARMED = near(GROWERS, HARM_PERSON, 6)
PROTEST = re.compile(r"protest\w*|demonstrat\w*|march\w*|riot\w*", re.I)

SEXUAL = re.compile(r"\brap(?:e|ed|es|ing|ist\w*)\b|sexual(?:ly)? (?:violence|assault\w*|abus\w*|exploit\w*|slave\w*)|\bgang[- ]rap", re.I)

HEALTH_PLACES = r"hospitals?|clinics?|health (?:cent(?:er|re)s?|facilit\w+|posts?|workers?|staff|zone offices?|officials?|teams?|agents?)|medical (?:staff|teams?|workers?|facilit\w+|cent(?:er|re)s?|personnel|supplies)|ambulances?|nurses?|doctors?|dispensar\w+|Ebola (?:treatment|transit|response|responders?|teams?|workers?|cent(?:er|re)s?|vaccinat\w+)|ETCs?|MSF|M[ée]decins|Red Cross|vaccinat\w+ (?:teams?|workers?|campaign)|burial teams?|pharmac\w+"
HEALTH_ATTACK = near(HEALTH_PLACES, HARM_PERSON + "|" + HARM_TAKE + "|" + HARM_DESTROY + "|" + HARM_ATTACK + r"|threat\w*|stoned|stoning|vandali\w+|occup\w+", 8)
WOUNDED = re.compile(r"\b(?:wound\w*|injur\w*|hurt|hospitali[sz]ed|ebola|cholera|measles|disease|epidemic)\b", re.I)
VIOLENT = re.compile(r"\b(?:kill\w*|murder\w*|dead|death\w*|died|wound\w*|injur\w*|abduct\w*|kidnap\w*|attack\w*|beat|beaten|shot|shoot\w*|gunfire|clash\w*|fight\w*|rap(?:e|ed)|assault\w*|tortur\w*|bomb\w*|explo\w*|IED|machete\w*|hostage\w*|massacr\w*|fatalit\w*|casualt\w*|lynch\w*)\b", re.I)
VIOLENT_TYPES = ("battle", "violence against civilians", "remote violence", "explosions")


def held_out(country):
    return zlib.crc32(country.encode("utf-8")) % 3 == 0


def read_rows(path):
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.lower().endswith(".csv"):
                    raw = z.read(name)
                    yield from parse(raw, f"{path}:{name}")
    else:
        with open(path, "rb") as f:
            yield from parse(f.read(), path)


def parse(raw, source):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    reader = csv.DictReader(io.StringIO(text))
    fields = {k.lower(): k for k in (reader.fieldnames or []) if k}
    for need in ("notes", "event_type", "country"):
        if need not in fields:
            sys.exit(f"{source}: no column '{need}' (columns: {', '.join(reader.fieldnames or [])})")
    for i, row in enumerate(reader, start=2):
        g = lambda k: (row.get(fields[k]) or "").strip() if k in fields else ""
        notes = " ".join(g("notes").split())
        if notes:
            yield {
                "id": f"{os.path.basename(source)}:{g('event_id_cnty') or i}",
                "country": g("country"),
                "event_type": g("event_type"),
                "sub_event_type": g("sub_event_type"),
                "notes": notes,
            }


def label(row):
    text = row["notes"]
    kind = (row["event_type"] + " " + row["sub_event_type"]).lower()
    sexual = "sexual violence" in kind or bool(SEXUAL.search(text))
    health_care = bool(HEALTH_ATTACK.search(text))
    food = any(r.search(text) for r in FOOD_RULES) or (GROWERS_HARMED.search(text) and not PROTEST.search(text))
    food = bool(food) and not FOOD_EXCLUDE.search(text)
    violent = any(t in kind for t in VIOLENT_TYPES) or bool(VIOLENT.search(text)) or sexual
    if "peaceful protest" in kind:
        violent = bool(VIOLENT.search(text))
    health = health_care or bool(WOUNDED.search(text))
    return {"food": int(food), "personal": int(violent), "health": int(health), "crsv": int(sexual),
            "_kinds": [k for k, v in (("food", food), ("sexual_violence", sexual), ("health_care", health_care)) if v]}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    splits = {"tune": [], "heldout": []}
    seen = set()
    for path in sys.argv[2:]:
        for row in read_rows(path):
            if row["notes"] in seen:  # ACLED repeats a note for several events
                continue
            seen.add(row["notes"])
            row.update(label(row))
            splits["heldout" if held_out(row["country"]) else "tune"].append(row)
    cols = ["food", "personal", "health", "crsv"]
    summary = {}
    for split, rows in splits.items():
        rows.sort(key=lambda r: r["id"])
        files = {None: rows}
        for kind in ("food", "sexual_violence", "health_care"):
            files[kind] = [r for r in rows if kind in r["_kinds"]]
        for kind, subset in files.items():
            name = split if kind is None else f"{split}-{kind}"
            with open(os.path.join(out, name + ".csv"), "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["id", "message"] + cols)
                for r in subset:
                    w.writerow([r["id"], r["notes"]] + [r[c] for c in cols])
            summary[name] = {"rows": len(subset), **{c: sum(r[c] for r in subset) for c in cols}}
        summary[split]["countries"] = sorted({r["country"] for r in rows})
    with open(os.path.join(out, "crosswalk.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["category", "dimension", "theme", "why"])
        w.writerow(["food", "food", "", "weak label: violence that takes or destroys food or the means to produce it"])
        w.writerow(["personal", "personal", "", "weak label: violent event or people harmed"])
        w.writerow(["health", "health", "", "weak label: health care attacked, people wounded, disease"])
        w.writerow(["crsv", "", "conflict_related_sexual_violence", "weak label: rape or sexual violence"])
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    json.dump({k: {x: y for x, y in v.items() if x != "countries"} for k, v in summary.items()}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
