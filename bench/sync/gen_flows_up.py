"""Writes, for every report of an office's SQLite database, what an office's
analysts do with it as the store would: an acknowledgement (alert step 0)
whose feedback SMS is queued, exported and sent (one outbox message, three
status changes), and one tag correction; the database's triggers log them
for synchronisation. Usage: gen_flows_up.py OFFICE.db"""
import sqlite3, sys, time
from datetime import datetime, timedelta, timezone

def rfc3339(ns):
    t = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")

def main():
    db = sqlite3.connect(sys.argv[1])
    reports = db.execute("SELECT id, reference, received_ns FROM reports WHERE id NOT IN (SELECT report_id FROM alert_steps)").fetchall()
    start = time.time()
    with db:
        for rid, ref, received in reports:
            at = lambda minutes: rfc3339(received + minutes * 60_000_000_000)
            db.execute("INSERT INTO alert_steps (report_id, seq, step, detail, user_id, at) VALUES (?, 0, 'acknowledge', "
                       "'{\"step\":\"acknowledge\"}', 'u-amina', ?)", (rid, at(5)))
            body = f"Votre signalement {ref} est pris en charge : une patrouille passera demain."
            mid = db.execute("INSERT INTO outbox_messages (report_id, step_seq, language, body) VALUES (?, 0, 'fr', ?)",
                             (rid, body)).lastrowid
            for seq, status, minutes, detail in [(0, "queued", 5, None), (1, "exported", 30, "bambari-sms.csv"),
                                                 (2, "sent", 31, "rapidpro-batch-17")]:
                db.execute("INSERT INTO outbox_status (message_id, seq, status, user_id, at, detail) VALUES (?, ?, ?, "
                           "'u-amina', ?, ?)", (mid, seq, status, at(minutes), detail))
            db.execute("INSERT INTO report_tag_corrections (report_id, user_id, at, previous_dimensions, previous_themes, "
                       "dimensions, themes) VALUES (?, 'u-amina', ?, 'personal', 'protection_of_civilians', "
                       "'personal;community', 'protection_of_civilians')", (rid, at(40)))
    print(f"steps, messages and corrections for {len(reports)} reports written in {time.time() - start:.1f} s",
          file=sys.stderr)

main()
