-- vitalcore SQLite schema, version 3: analysts' corrections of report tags.
-- Append-only: who set which dimensions and themes on which report, when,
-- and what was there before. The report's current tags are in `reports`.
-- Tag lists are compact text `personal;political`; `at` is RFC 3339 UTC.

CREATE TABLE report_tag_corrections (
    id                  INTEGER PRIMARY KEY,
    report_id           INTEGER NOT NULL REFERENCES reports (id),
    user_id             TEXT    NOT NULL,
    at                  TEXT    NOT NULL,
    previous_dimensions TEXT    NOT NULL,
    previous_themes     TEXT    NOT NULL,
    dimensions          TEXT    NOT NULL,
    themes              TEXT    NOT NULL
);
CREATE INDEX report_tag_corrections_report ON report_tag_corrections (report_id, id);
CREATE TRIGGER report_tag_corrections_no_update BEFORE UPDATE ON report_tag_corrections
BEGIN SELECT RAISE(ABORT, 'tag corrections are append-only'); END;
CREATE TRIGGER report_tag_corrections_no_delete BEFORE DELETE ON report_tag_corrections
BEGIN SELECT RAISE(ABORT, 'tag corrections are append-only'); END;
