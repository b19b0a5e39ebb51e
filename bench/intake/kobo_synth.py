#!/usr/bin/env python3
"""Writes a synthetic KoBo-shaped CSV export (group paths, GPS columns,
_uuid, _submission_time, a contact on every row, 1 row in 50 bad), the same
shape as crates/intake/examples/kobo_speed.rs. Invented content only.

usage: kobo_synth.py ROWS OUT.csv
"""
import sys

rows, out = int(sys.argv[1]), sys.argv[2]
cats = ["attack", "killing", "looting_extortion", "displacement", "epidemic", "cattle_crop_theft", "water"]
urg = ["low", "medium", "high", "critical"]
places = ["Bouca", "Kabo", "Batangafo", "Bossangoa", "Paoua", "Bozoum", "Bambari", "Obo", "Zemio", "Ndele"]
acts = ["des hommes armés ont été vus", "armed men looted the shops", "cattle were stolen", "cholera cases were reported",
        "a checkpoint took money from traders", "families fled into the bush", "the school was occupied", "the well was poisoned"]
with open(out, "w", encoding="utf-8") as f:
    f.write("start,end,incident/description,incident/category,incident/urgency,incident/date,where/village,where/pcode,"
            "where/gps,_gps_latitude,_gps_longitude,_gps_altitude,_gps_precision,reporter/phone,_id,_uuid,_submission_time,_index\n")
    for i in range(rows):
        lat = 4.0 + (i % 900) * 0.005
        lon = 16.0 + (i % 700) * 0.007
        lat_text = "95.0" if i % 50 == 7 else f"{lat:.5f}"
        text = "" if i % 50 == 13 else f"Report {i}: {acts[(i * 7) % len(acts)]} near {places[(i * 3) % len(places)]} village {i % 997}, {i % 113} people"
        f.write(f"2024-05-01T08:00:00.000+01:00,2024-05-01T08:05:00.000+01:00,\"{text}\",{cats[i % len(cats)]},{urg[i % 4]},"
                f"2024-04-{1 + i % 28:02d},{places[i % len(places)]},CF{11 + i % 60},{lat_text} {lon:.5f} 420 5,{lat_text},{lon:.5f},420,5,"
                f"+2367{i % 10_000_000:07d},{100000 + i},{i:08x}-1111-4c1a-9a11-{i:012x},2024-05-01T{i % 24:02d}:{i % 60:02d}:00,{i + 1}\n")
