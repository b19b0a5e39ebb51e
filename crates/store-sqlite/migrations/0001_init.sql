-- vitalcore SQLite schema, version 1.
-- Dates are integers yyyymmdd (20201230) and months yyyymm (202012): compact,
-- sortable and readable in a SQL shell. Dimensions and themes are compact
-- lists `personal;political` (framework keys never contain `;`): the
-- rollups stream events and count per tag in memory, which is faster than
-- joining a side table. Repeated event strings are dictionary-encoded in
-- `strings` (a row of ACLED shape shrinks from ~540 to ~300 bytes, which
-- every phase of a bulk import scales with).

CREATE TABLE imports (
    id            INTEGER PRIMARY KEY,
    path          TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('events', 'observations')),
    rows_read     INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    imported      INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    imported_at   TEXT    NOT NULL
);

-- Strings that repeat from event to event (countries, area and place
-- names, event types, actors, tag lists, mapping rules, file names), each stored once; events hold their
-- id. Rows only ever get added. `events_text` shows events with the text.
CREATE TABLE strings (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);

-- Current version of every source event, keyed by (source, source_id).
CREATE TABLE events (
    id                  INTEGER PRIMARY KEY,
    source              TEXT    NOT NULL,
    source_id           TEXT    NOT NULL,
    version             INTEGER NOT NULL,
    fingerprint         INTEGER NOT NULL,
    date                INTEGER NOT NULL,
    date_end            INTEGER,
    month               INTEGER NOT NULL,
    country             INTEGER, -- strings.id
    iso3                INTEGER, -- strings.id
    admin1              INTEGER, -- strings.id
    admin2              INTEGER, -- strings.id
    location            INTEGER, -- strings.id
    lat                 REAL,
    lon                 REAL,
    precision           INTEGER,
    admin1_pcode        TEXT,
    admin2_pcode        TEXT,
    grid_gid            INTEGER,
    event_type          INTEGER NOT NULL, -- strings.id
    sub_event_type      INTEGER, -- strings.id
    actor1              INTEGER, -- strings.id
    actor2              INTEGER, -- strings.id
    fatalities          INTEGER NOT NULL,
    civilian_fatalities INTEGER,
    civilian_targeting  INTEGER NOT NULL,
    notes               TEXT,
    dimensions          INTEGER NOT NULL, -- strings.id of `personal;political`
    themes              INTEGER NOT NULL, -- strings.id
    severity            INTEGER NOT NULL,
    rule                INTEGER NOT NULL, -- strings.id
    file                INTEGER NOT NULL, -- strings.id: provenance file
    line                INTEGER NOT NULL, -- provenance line
    import_id           INTEGER NOT NULL REFERENCES imports (id) -- imports.imported_at = when stored
);
-- source_id first: the sort that builds the index after a bulk load then
-- decides almost every comparison on the first column (source is the same
-- for most rows); lookups give both columns, so the order is free.
CREATE UNIQUE INDEX events_source_id ON events (source_id, source);
CREATE INDEX events_date ON events (date);
CREATE INDEX events_admin1_month ON events (admin1_pcode, month);
CREATE INDEX events_grid_month ON events (grid_gid, month);

-- Prior versions of revised events, full content, as they were stored.
CREATE TABLE event_versions (
    event_id            INTEGER NOT NULL REFERENCES events (id),
    version             INTEGER NOT NULL,
    source              TEXT    NOT NULL,
    source_id           TEXT    NOT NULL,
    fingerprint         INTEGER NOT NULL,
    date                INTEGER NOT NULL,
    date_end            INTEGER,
    month               INTEGER NOT NULL,
    country             INTEGER, -- strings.id
    iso3                INTEGER, -- strings.id
    admin1              INTEGER, -- strings.id
    admin2              INTEGER, -- strings.id
    location            INTEGER, -- strings.id
    lat                 REAL,
    lon                 REAL,
    precision           INTEGER,
    admin1_pcode        TEXT,
    admin2_pcode        TEXT,
    grid_gid            INTEGER,
    event_type          INTEGER NOT NULL, -- strings.id
    sub_event_type      INTEGER, -- strings.id
    actor1              INTEGER, -- strings.id
    actor2              INTEGER, -- strings.id
    fatalities          INTEGER NOT NULL,
    civilian_fatalities INTEGER,
    civilian_targeting  INTEGER NOT NULL,
    notes               TEXT,
    dimensions          INTEGER NOT NULL, -- strings.id of `personal;political`
    themes              INTEGER NOT NULL, -- strings.id
    severity            INTEGER NOT NULL,
    rule                INTEGER NOT NULL, -- strings.id
    file                INTEGER NOT NULL, -- strings.id: provenance file
    line                INTEGER NOT NULL, -- provenance line
    import_id           INTEGER NOT NULL REFERENCES imports (id), -- imports.imported_at = when stored
    PRIMARY KEY (event_id, version)
);

-- Events as text, for reading in a SQL shell.
CREATE VIEW events_text AS
SELECT e.id, e.source, e.source_id, e.version, e.date, e.date_end, e.month,
       country.text AS country, iso3.text AS iso3, admin1.text AS admin1, admin2.text AS admin2,
       location.text AS location, e.lat, e.lon,
       e.precision, e.admin1_pcode, e.admin2_pcode, e.grid_gid,
       event_type.text AS event_type, sub_event_type.text AS sub_event_type,
       actor1.text AS actor1, actor2.text AS actor2, e.fatalities, e.civilian_fatalities,
       e.civilian_targeting, e.notes, dimensions.text AS dimensions, themes.text AS themes, e.severity,
       rule.text AS rule, file.text AS file, e.line, e.import_id, i.imported_at AS stored_at
  FROM events e
  JOIN imports i ON i.id = e.import_id
  LEFT JOIN strings country ON country.id = e.country
  LEFT JOIN strings iso3 ON iso3.id = e.iso3
  LEFT JOIN strings admin1 ON admin1.id = e.admin1
  LEFT JOIN strings admin2 ON admin2.id = e.admin2
  LEFT JOIN strings location ON location.id = e.location
  LEFT JOIN strings event_type ON event_type.id = e.event_type
  LEFT JOIN strings sub_event_type ON sub_event_type.id = e.sub_event_type
  LEFT JOIN strings actor1 ON actor1.id = e.actor1
  LEFT JOIN strings actor2 ON actor2.id = e.actor2
  LEFT JOIN strings dimensions ON dimensions.id = e.dimensions
  LEFT JOIN strings themes ON themes.id = e.themes
  LEFT JOIN strings rule ON rule.id = e.rule
  LEFT JOIN strings file ON file.id = e.file;

-- Rows of tagged tables (HXL) that are indicator observations, not events.
CREATE TABLE observations (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    source_id     TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    fingerprint   INTEGER NOT NULL,
    date          INTEGER,
    month         INTEGER,
    country       TEXT,
    iso3          TEXT,
    admin1        TEXT,
    admin2        TEXT,
    location      TEXT,
    lat           REAL,
    lon           REAL,
    precision     INTEGER,
    admin1_pcode  TEXT,
    admin2_pcode  TEXT,
    grid_gid      INTEGER,
    tag_values    TEXT    NOT NULL, -- JSON array of [hxl tag spec, value] pairs
    dimensions    TEXT    NOT NULL,
    themes        TEXT    NOT NULL,
    severity      INTEGER NOT NULL,
    rule          TEXT    NOT NULL,
    file          TEXT    NOT NULL,
    line          INTEGER NOT NULL,
    import_id     INTEGER NOT NULL REFERENCES imports (id),
    stored_at     TEXT    NOT NULL
);
CREATE UNIQUE INDEX observations_source_id ON observations (source, source_id);
CREATE INDEX observations_admin1_month ON observations (admin1_pcode, month);

CREATE TABLE observation_versions (
    observation_id INTEGER NOT NULL REFERENCES observations (id),
    version        INTEGER NOT NULL,
    source         TEXT    NOT NULL,
    source_id      TEXT    NOT NULL,
    fingerprint    INTEGER NOT NULL,
    date           INTEGER,
    month          INTEGER,
    country        TEXT,
    iso3           TEXT,
    admin1         TEXT,
    admin2         TEXT,
    location       TEXT,
    lat            REAL,
    lon            REAL,
    precision      INTEGER,
    admin1_pcode   TEXT,
    admin2_pcode   TEXT,
    grid_gid       INTEGER,
    tag_values     TEXT    NOT NULL,
    dimensions     TEXT    NOT NULL,
    themes         TEXT    NOT NULL,
    severity       INTEGER NOT NULL,
    rule           TEXT    NOT NULL,
    file           TEXT    NOT NULL,
    line           INTEGER NOT NULL,
    import_id      INTEGER NOT NULL REFERENCES imports (id),
    stored_at      TEXT    NOT NULL,
    PRIMARY KEY (observation_id, version)
);

-- Administrative areas with their boundaries (GeoJSON geometry text).
CREATE TABLE areas (
    pcode        TEXT PRIMARY KEY,
    name         TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    parent_pcode TEXT,
    country      TEXT,
    geometry     TEXT
);
CREATE INDEX areas_level ON areas (level);
