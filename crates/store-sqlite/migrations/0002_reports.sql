-- vitalcore SQLite schema, version 2: community reports, the alert step log,
-- users, sessions, API tokens, the contact audit log and KoBo submission
-- uuids (the `ReportStore` of vitalcore-intake).
--
-- Times: `received_ns` is nanoseconds since 1970-01-01 UTC (exact, sortable;
-- read it with datetime(received_ns / 1e9, 'unixepoch')). Every other time
-- is RFC 3339 text in UTC as jiff writes it, exact to the nanosecond.
-- The reporter's contact is only ever the sealed text (`vc1.<key id>.<...>`).
-- Tag lists are compact text `personal;political`, as for events.

CREATE TABLE reports (
    id             INTEGER PRIMARY KEY,
    reference      TEXT    NOT NULL UNIQUE,
    received_ns    INTEGER NOT NULL,
    event_time     TEXT,
    text           TEXT    NOT NULL,
    language       TEXT,
    category       TEXT,
    urgency        TEXT CHECK (urgency IN ('low', 'medium', 'high', 'critical')),
    place_name     TEXT,
    lat            REAL,
    lon            REAL,
    area_pcode     TEXT, -- also the community a focal point is bound to
    reporter_id    TEXT, -- pseudonym, never the contact
    contact        TEXT, -- sealed (encrypted) contact, never plaintext
    channel        TEXT    NOT NULL, -- web_form, api, sms, kobo, cli
    channel_name   TEXT, -- the partner, gateway or KoBo form
    source_id      TEXT,
    verification   TEXT    NOT NULL CHECK (verification IN ('unverified', 'verified', 'unfounded')),
    dimensions     TEXT    NOT NULL,
    themes         TEXT    NOT NULL,
    severity       INTEGER NOT NULL,
    rule           TEXT    NOT NULL
);
CREATE INDEX reports_received ON reports (received_ns);
CREATE INDEX reports_area_received ON reports (area_pcode, received_ns);

-- Likely duplicates, linked and never deleted; `seq` keeps the links in the
-- order they were made (a re-scored link moves to the end).
CREATE TABLE report_duplicates (
    report_id       INTEGER NOT NULL REFERENCES reports (id),
    seq             INTEGER NOT NULL,
    other           TEXT    NOT NULL,
    score           REAL    NOT NULL,
    text_similarity REAL    NOT NULL,
    hours_apart     REAL    NOT NULL,
    km_apart        REAL,
    PRIMARY KEY (report_id, seq)
);

-- The alert workflow, append-only: (report, seq) is the step's position.
CREATE TABLE alert_steps (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    seq       INTEGER NOT NULL,
    step      TEXT    NOT NULL, -- acknowledge, verify, ... (readable in a shell)
    detail    TEXT    NOT NULL, -- the step as JSON
    user_id   TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    PRIMARY KEY (report_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER alert_steps_no_update BEFORE UPDATE ON alert_steps
BEGIN SELECT RAISE(ABORT, 'alert steps are append-only'); END;
CREATE TRIGGER alert_steps_no_delete BEFORE DELETE ON alert_steps
BEGIN SELECT RAISE(ABORT, 'alert steps are append-only'); END;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    community     TEXT,
    password_hash TEXT    NOT NULL, -- argon2id PHC string
    active        INTEGER NOT NULL
);

-- Tokens are kept only as their SHA-256.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_tokens (
    token_hash BLOB PRIMARY KEY,
    partner    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) WITHOUT ROWID;

-- Who read which reporter's contact, when and why; append-only.
CREATE TABLE contact_reads (
    id        INTEGER PRIMARY KEY,
    report    TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX contact_reads_report ON contact_reads (report, id);
CREATE TRIGGER contact_reads_no_update BEFORE UPDATE ON contact_reads
BEGIN SELECT RAISE(ABORT, 'the contact audit log is append-only'); END;
CREATE TRIGGER contact_reads_no_delete BEFORE DELETE ON contact_reads
BEGIN SELECT RAISE(ABORT, 'the contact audit log is append-only'); END;

-- KoBo/ODK submissions already imported, per form (re-import adds nothing).
CREATE TABLE kobo_submissions (
    form      TEXT NOT NULL,
    uuid      TEXT NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (form, uuid)
) WITHOUT ROWID;
