-- vitalcore PostgreSQL schema, version 12: Security Council resolutions read
-- and tagged (issue 11), with where each came from.
--
-- A resolution is identified by its number. `content_hash` fingerprints
-- everything stored of it but its provenance (vitalcore_store::mandates::
-- content_hash): importing the same file again finds it equal and leaves the
-- row alone; other content replaces the resolution, paragraphs and all.
-- Paragraphs, points and sub-points are one row each, in document order
-- (`position`), a point pointing at the paragraph or point it belongs to
-- (`parent`). Id lists (tasks, dimensions, themes, missions) are joined by
-- commas; emphasis (the operative verbs printed in italics) is byte ranges
-- `start-end` joined by commas. Dates are `YYYY-MM-DD`, times RFC 3339.
-- Every statement is IF NOT EXISTS.

CREATE TABLE IF NOT EXISTS mandate_resolutions (
    number       bigint PRIMARY KEY,
    symbol       TEXT    NOT NULL,
    adopted      TEXT    NOT NULL,
    year         bigint NOT NULL,
    chapter_vii  boolean NOT NULL,
    agenda_item  TEXT,
    missions     TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    file_name    TEXT    NOT NULL,
    file_sha256  TEXT    NOT NULL,
    imported_at  TEXT    NOT NULL,
    imported_by  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS mandate_resolutions_adopted ON mandate_resolutions (adopted, number);

CREATE TABLE IF NOT EXISTS mandate_paragraphs (
    number              bigint NOT NULL REFERENCES mandate_resolutions (number) ON DELETE CASCADE,
    position            bigint NOT NULL,
    parent              bigint,
    kind                TEXT    NOT NULL CHECK (kind IN ('preamble', 'operative', 'heading', 'point')),
    num                 TEXT,
    eid                 TEXT    NOT NULL,
    text                TEXT    NOT NULL,
    tasks               TEXT    NOT NULL,
    dimensions          TEXT    NOT NULL,
    themes              TEXT    NOT NULL,
    strength            TEXT,
    all_necessary_means boolean NOT NULL,
    missions            TEXT    NOT NULL,
    emphasis            TEXT    NOT NULL,
    PRIMARY KEY (number, position)
);

-- The missions each resolution's operative paragraphs name, to find a
-- mission's resolutions without reading every one.
CREATE TABLE IF NOT EXISTS mandate_missions (
    mission TEXT NOT NULL,
    number  bigint NOT NULL REFERENCES mandate_resolutions (number) ON DELETE CASCADE,
    PRIMARY KEY (mission, number)
);
