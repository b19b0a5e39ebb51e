-- vitalcore PostgreSQL schema, version 2: community reports, the alert step
-- log, users, sessions, API tokens, the contact audit log and KoBo
-- submission uuids (the `ReportStore` of vitalcore-intake). Same tables and
-- encodings as the SQLite store.
--
-- Times: `received_ns` is nanoseconds since 1970-01-01 UTC (exact, sortable;
-- read it with to_timestamp(received_ns / 1e9)). Every other time is RFC 3339
-- text in UTC as jiff writes it, exact to the nanosecond (timestamptz keeps
-- microseconds only, and a report must read back as it was written).
-- The reporter's contact is only ever the sealed text (`vc1.<key id>.<...>`).
-- Tag lists are compact text `personal;political`, as for events.

CREATE TABLE reports (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference      text     NOT NULL UNIQUE,
    received_ns    bigint   NOT NULL,
    event_time     text,
    text           text     NOT NULL,
    language       text,
    category       text,
    urgency        text CHECK (urgency IN ('low', 'medium', 'high', 'critical')),
    place_name     text,
    lat            double precision,
    lon            double precision,
    area_pcode     text, -- also the community a focal point is bound to
    reporter_id    text, -- pseudonym, never the contact
    contact        text, -- sealed (encrypted) contact, never plaintext
    channel        text     NOT NULL, -- web_form, api, sms, kobo, cli
    channel_name   text, -- the partner, gateway or KoBo form
    source_id      text,
    verification   text     NOT NULL CHECK (verification IN ('unverified', 'verified', 'unfounded')),
    dimensions     text     NOT NULL,
    themes         text     NOT NULL,
    severity       smallint NOT NULL,
    rule           text     NOT NULL
);
CREATE INDEX reports_received ON reports (received_ns);
CREATE INDEX reports_area_received ON reports (area_pcode, received_ns);

-- Likely duplicates, linked and never deleted; `seq` keeps the links in the
-- order they were made (a re-scored link moves to the end).
CREATE TABLE report_duplicates (
    report_id       bigint  NOT NULL REFERENCES reports (id),
    seq             bigint  NOT NULL,
    other           text    NOT NULL,
    score           double precision NOT NULL,
    text_similarity double precision NOT NULL,
    hours_apart     double precision NOT NULL,
    km_apart        double precision,
    PRIMARY KEY (report_id, seq)
);

CREATE FUNCTION vitalcore_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: rows are never updated or deleted', TG_TABLE_NAME;
END
$$;

-- The alert workflow, append-only: (report, seq) is the step's position.
CREATE TABLE alert_steps (
    report_id bigint NOT NULL REFERENCES reports (id),
    seq       bigint NOT NULL,
    step      text   NOT NULL, -- acknowledge, verify, ... (readable in a shell)
    detail    text   NOT NULL, -- the step as JSON
    user_id   text   NOT NULL,
    at        text   NOT NULL,
    PRIMARY KEY (report_id, seq)
);
CREATE TRIGGER alert_steps_append_only BEFORE UPDATE OR DELETE ON alert_steps
    FOR EACH ROW EXECUTE FUNCTION vitalcore_refuse_change();

CREATE TABLE users (
    id            text PRIMARY KEY,
    username      text    NOT NULL UNIQUE,
    display_name  text    NOT NULL,
    role          text    NOT NULL,
    community     text,
    password_hash text    NOT NULL, -- argon2id PHC string
    active        boolean NOT NULL
);

-- Tokens are kept only as their SHA-256.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    text NOT NULL,
    created_at text NOT NULL,
    expires_at text NOT NULL
);

CREATE TABLE api_tokens (
    token_hash bytea PRIMARY KEY,
    partner    text NOT NULL,
    user_id    text NOT NULL,
    created_at text NOT NULL,
    revoked_at text
);

-- Who read which reporter's contact, when and why; append-only.
CREATE TABLE contact_reads (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report  text NOT NULL,
    user_id text NOT NULL,
    role    text NOT NULL,
    purpose text NOT NULL,
    at      text NOT NULL
);
CREATE INDEX contact_reads_report ON contact_reads (report, id);
CREATE TRIGGER contact_reads_append_only BEFORE UPDATE OR DELETE ON contact_reads
    FOR EACH ROW EXECUTE FUNCTION vitalcore_refuse_change();

-- KoBo/ODK submissions already imported, per form (re-import adds nothing).
CREATE TABLE kobo_submissions (
    form      text NOT NULL,
    uuid      text NOT NULL,
    reference text NOT NULL,
    PRIMARY KEY (form, uuid)
);
