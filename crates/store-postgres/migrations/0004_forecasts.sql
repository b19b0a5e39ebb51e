-- vitalcore PostgreSQL schema, version 4: forecast runs, their rows, and the
-- early-warning queue (vitalcore-store's `ForecastStore`).
--
-- Times are RFC 3339 text in UTC; months are `YYYY-MM` text. `skill` and
-- `parameters` are JSON text; `p_ge` and `quantiles` are JSON arrays of
-- [N, p] and [level, value] pairs.

CREATE TABLE forecast_runs (
    id          bigserial PRIMARY KEY,
    created     TEXT    NOT NULL,
    model       TEXT    NOT NULL,
    unit_kind   TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    origin      TEXT    NOT NULL,
    horizons    TEXT    NOT NULL, -- comma-separated months ahead
    skill       TEXT    NOT NULL,
    parameters  TEXT    NOT NULL
);
CREATE INDEX forecast_runs_kind ON forecast_runs (unit_kind, id);

CREATE TABLE forecast_rows (
    run_id     bigint  NOT NULL REFERENCES forecast_runs (id) ON DELETE CASCADE,
    unit       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    month      TEXT    NOT NULL,
    mean       double precision    NOT NULL,
    p_any      double precision    NOT NULL,
    p_ge       TEXT    NOT NULL,
    quantiles  TEXT    NOT NULL,
    PRIMARY KEY (run_id, unit, month)
);

CREATE TABLE early_warnings (
    id         bigserial PRIMARY KEY,
    created    TEXT    NOT NULL,
    unit       TEXT    NOT NULL,
    month      TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('forecast-threshold', 'report-burst')),
    value      double precision    NOT NULL,
    threshold  double precision    NOT NULL,
    reason     TEXT    NOT NULL,
    run_id     bigint  REFERENCES forecast_runs (id) ON DELETE SET NULL,
    status     TEXT    NOT NULL CHECK (status IN ('new', 'acknowledged', 'closed')),
    status_by  TEXT,
    status_at  TEXT,
    UNIQUE (unit, month, kind)
);
CREATE INDEX early_warnings_status ON early_warnings (status, id);
