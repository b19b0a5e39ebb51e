-- vitalcore SQLite schema, version 1.
-- Dates are integers yyyymmdd (20201230) and months yyyymm (202012): compact,
-- sortable and readable in a SQL shell. Dimensions and themes are compact
-- lists `personal;political` (framework keys never contain `;`): the
-- rollups stream events and count per tag in memory, which is faster than
-- joining a side table.

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
    country             TEXT,
    iso3                TEXT,
    admin1              TEXT,
    admin2              TEXT,
    location            TEXT,
    lat                 REAL,
    lon                 REAL,
    precision           INTEGER,
    admin1_pcode        TEXT,
    admin2_pcode        TEXT,
    grid_gid            INTEGER,
    event_type          TEXT    NOT NULL,
    sub_event_type      TEXT,
    actor1              TEXT,
    actor2              TEXT,
    fatalities          INTEGER NOT NULL,
    civilian_fatalities INTEGER,
    civilian_targeting  INTEGER NOT NULL,
    notes               TEXT,
    dimensions          TEXT    NOT NULL,
    themes              TEXT    NOT NULL,
    severity            INTEGER NOT NULL,
    rule                TEXT    NOT NULL,
    file                TEXT    NOT NULL,
    line                INTEGER NOT NULL,
    import_id           INTEGER NOT NULL REFERENCES imports (id),
    stored_at           TEXT    NOT NULL
);
CREATE UNIQUE INDEX events_source_id ON events (source, source_id);
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
    country             TEXT,
    iso3                TEXT,
    admin1              TEXT,
    admin2              TEXT,
    location            TEXT,
    lat                 REAL,
    lon                 REAL,
    precision           INTEGER,
    admin1_pcode        TEXT,
    admin2_pcode        TEXT,
    grid_gid            INTEGER,
    event_type          TEXT    NOT NULL,
    sub_event_type      TEXT,
    actor1              TEXT,
    actor2              TEXT,
    fatalities          INTEGER NOT NULL,
    civilian_fatalities INTEGER,
    civilian_targeting  INTEGER NOT NULL,
    notes               TEXT,
    dimensions          TEXT    NOT NULL,
    themes              TEXT    NOT NULL,
    severity            INTEGER NOT NULL,
    rule                TEXT    NOT NULL,
    file                TEXT    NOT NULL,
    line                INTEGER NOT NULL,
    import_id           INTEGER NOT NULL REFERENCES imports (id),
    stored_at           TEXT    NOT NULL,
    PRIMARY KEY (event_id, version)
);

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
