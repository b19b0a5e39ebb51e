-- vitalcore PostgreSQL schema, version 3: analysts' corrections of report
-- tags. Append-only: who set which dimensions and themes on which report,
-- when, and what was there before. The report's current tags are in
-- `reports`. Same table and encodings as the SQLite store.

CREATE TABLE report_tag_corrections (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id           bigint NOT NULL REFERENCES reports (id),
    user_id             text   NOT NULL,
    at                  text   NOT NULL,
    previous_dimensions text   NOT NULL,
    previous_themes     text   NOT NULL,
    dimensions          text   NOT NULL,
    themes              text   NOT NULL
);
CREATE INDEX report_tag_corrections_report ON report_tag_corrections (report_id, id);
CREATE TRIGGER report_tag_corrections_append_only BEFORE UPDATE OR DELETE ON report_tag_corrections
    FOR EACH ROW EXECUTE FUNCTION vitalcore_refuse_change();
