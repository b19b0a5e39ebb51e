"""Python peer for `vitalcore mandate tag`: the same job with lxml and regular
expressions. Reads every .xml file under DIR, keeps resolutions (S/RES, once
per number), takes preambular and operative paragraphs with their points,
cuts operative text into clauses at italic/underlined verbs, and tags a clause
with the task families of the same framework file (triggers at word starts,
unless-phrases, verbs that give tasks). Prints one line per (symbol, eId,
task) to the output file so the two tools can be compared.

usage: python peer.py DIR MANDATES_TOML OUT
"""
import os
import re
import sys
import tomllib

from lxml import etree

AKN = "{http://docs.oasis-open.org/legaldocml/ns/akn/3.0}"
NORM = re.compile(r"[^\w]+|_", re.UNICODE)
MODIFIERS = {"further", "also", "again", "once", "and", "furthermore", "moreover", "therefore", "additionally",
             "accordingly", "hereby", "then", "in", "this", "regard", "context", "addition", "particular"}


def norm(text):
    return " ".join(NORM.sub(" ", text.lower()).split())


def load(path):
    with open(path, "rb") as f:
        t = tomllib.load(f)
    tasks = []
    for task in t["mandate_tasks"]:
        trig = "|".join(re.escape(norm(p)) for p in task["triggers"])
        unless = [re.compile(r"(?:^| )" + re.escape(norm(p))) for p in task.get("unless", [])]
        tasks.append((task["id"], re.compile(r"(?:^| )(?:" + trig + ")"), unless))
    verbs = sorted(((norm(p), v) for v in t["mandate_verbs"] for p in v["phrases"]), key=lambda x: -len(x[0]))
    return tasks, verbs


def verb_at(text, verbs):
    words = norm(text[:80]).split(" ")
    while words and words[0] and (words[0] in MODIFIERS or (words[0].endswith("ly") and len(words[0]) > 4)):
        words = words[1:]
    rest = " ".join(words)
    if not rest:
        return None
    for phrase, v in verbs:
        if rest == phrase or rest.startswith(phrase + " "):
            return v
    return {"id": words[0], "gives_tasks": False, "rank": 0}


def text_and_marks(el):
    """Text of el (footnotes left out) with the offsets where emphasised spans start."""
    parts, marks, size = [], [], 0
    def walk(e):
        nonlocal size
        tag = etree.QName(e).localname if isinstance(e.tag, str) else None
        if tag in ("authorialNote", "num"):
            return
        if tag == "span" and any(c in ("italic", "underline") for c in (e.get("class") or "").split()):
            marks.append(size)
        if e.text:
            parts.append(e.text); size += len(e.text)
        for c in e:
            if isinstance(c.tag, str):
                walk(c)
            if c.tail:
                parts.append(c.tail); size += len(c.tail)
    walk(el)
    return "".join(parts), marks


def clauses(text, marks, verbs, inherited):
    starts = [(0, None)]
    first = verb_at(text, verbs)
    starts[0] = (0, first if first and first["gives_tasks"] or inherited is None else inherited)
    known = {v["id"] for _, v in verbs}
    if first and first["id"] in known:
        starts[0] = (0, first)
    for m in marks:
        if m == 0:
            continue
        before = text[:m].rstrip()
        if before and not (before[-1] in ",;:." or before.endswith(" and") or before.endswith(" also")):
            continue
        v = verb_at(text[m:], verbs)
        if v and (v["id"] in known or (len(v["id"]) >= 4 and v["id"].endswith("s") and v["id"].isascii() and v["id"].isalpha())):
            starts.append((m, v))
    out = []
    for i, (s, v) in enumerate(starts):
        e = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out.append((text[s:e], v))
    return out


def tag_text(text, marks, tasks, verbs, inherited):
    found, last = set(), inherited
    for clause, v in clauses(text, marks, verbs, inherited):
        last = v
        if not v or not v["gives_tasks"]:
            continue
        n = norm(clause)
        for tid, rx, unless in tasks:
            hits = [m.start() + (1 if n[m.start()] == " " else 0) for m in rx.finditer(n)]
            if not hits:
                continue
            blocked = [(x.start(), x.end()) for u in unless for x in u.finditer(n)]
            if any(not any(a <= pos < b for a, b in blocked) for pos in hits):
                found.add(tid)
    return found, last


def points(list_el):
    for c in list_el:
        if not isinstance(c.tag, str):
            continue
        name = etree.QName(c).localname
        if name == "point":
            yield c
        elif name in ("sublist", "list"):
            yield from points(c)


def main():
    root_dir, toml_path, out_path = sys.argv[1:4]
    tasks, verbs = load(toml_path)
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root_dir) for f in fs if f.lower().endswith(".xml"))
    seen, rows, nres = set(), [], 0
    for path in files:
        tree = etree.parse(path)
        sym = tree.find(f".//{AKN}docNumber")
        symbol = " ".join("".join(sym.itertext()).split()) if sym is not None else ""
        if not symbol.startswith("S/RES/"):
            continue
        number = int(re.match(r"S/RES/(\d+)", symbol).group(1))
        if number in seen:
            continue
        seen.add(number)
        nres += 1
        main = next((c for c in tree.getroot().iter(f"{AKN}mainBody")), None)
        if main is None:
            continue
        for para in main.iter(f"{AKN}paragraph"):
            num = para.find(f"{AKN}num")
            if num is None or not re.match(r"\d", (num.text or "").strip()):
                continue
            lst = para.find(f"{AKN}list")
            own = lst.find(f"{AKN}intro") if lst is not None else para.find(f"{AKN}content")
            text, marks = text_and_marks(own) if own is not None else ("", [])
            found, last = tag_text(text, marks, tasks, verbs, None)
            for t in sorted(found):
                rows.append(f"{symbol}\t{para.get('eId')}\t{t}")
            if lst is not None:
                for pt in points(lst):
                    content = pt.find(f"{AKN}content")
                    if content is None:
                        continue
                    ptext, pmarks = text_and_marks(content)
                    pf, _ = tag_text(ptext, pmarks, tasks, verbs, last)
                    for t in sorted(pf):
                        rows.append(f"{symbol}\t{pt.get('eId')}\t{t}")
    with open(out_path, "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"{nres} resolutions, {len(rows)} (paragraph or point, task) rows", file=sys.stderr)


if __name__ == "__main__":
    main()
