//! Forecast runs, their rows and the early-warning queue: vitalcore-store's
//! [`ForecastStore`] in this database (schema `migrations/0004_forecasts.sql`;
//! the status changes with their notes `0006_outbox_and_warning_notes.sql`).

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use vitalcore_store::StoreError;
use vitalcore_store::forecasts::{
    EarlyWarning, ForecastRow, ForecastRun, ForecastStore, WarningFilter, WarningKind, WarningNote, WarningStatus,
    damaged, horizons_text, month, now,
};

use vitalcore_store::sync::{ForecastOf, WarningOf};

use crate::{SqliteStore, backend};

const RUN_COLUMNS: &str = "id, created, model, unit_kind, target, origin, horizons, skill, parameters";
const WARNING_COLUMNS: &str = "w.id, w.created, w.unit, w.month, w.kind, w.value, w.threshold, w.reason, w.run_id, \
    w.status, w.status_by, w.status_at, n.note, n.by_user, n.at, n.status";
/// The warnings with their latest note (the newest change that has one).
const WARNINGS_WITH_NOTE: &str = "early_warnings w LEFT JOIN early_warning_changes n ON n.id = \
    (SELECT max(c.id) FROM early_warning_changes c WHERE c.warning_id = w.id AND c.note IS NOT NULL)";

pub(crate) fn parse_horizons(text: &str) -> Result<Vec<u32>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| damaged(format!("horizon list `{text}`"))))
        .collect()
}

fn p_ge_json(pairs: &[(u32, f64)]) -> String {
    serde_json::to_string(pairs).unwrap_or_else(|_| "[]".into())
}

fn quantiles_json(pairs: &[(f64, f64)]) -> String {
    serde_json::to_string(pairs).unwrap_or_else(|_| "[]".into())
}

fn parse_p_ge(text: &str) -> Result<Vec<(u32, f64)>, StoreError> {
    serde_json::from_str(text).map_err(|_| damaged(format!("forecast column `{text}`")))
}

fn parse_quantiles(text: &str) -> Result<Vec<(f64, f64)>, StoreError> {
    serde_json::from_str(text).map_err(|_| damaged(format!("forecast column `{text}`")))
}

type RawRun = (i64, String, String, String, String, String, String, String, String);

fn raw_run(r: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

fn run_of(raw: RawRun) -> Result<ForecastRun, StoreError> {
    let (id, created, model, unit_kind, target, origin, horizons, skill, parameters) = raw;
    Ok(ForecastRun {
        id,
        created,
        model,
        unit_kind,
        target,
        origin: month(&origin)?,
        horizons: parse_horizons(&horizons)?,
        skill,
        parameters,
    })
}

type RawWarning = (
    i64,
    String,
    String,
    String,
    String,
    f64,
    f64,
    String,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    RawNote,
);
type RawNote = (Option<String>, Option<String>, Option<String>, Option<String>);

fn raw_warning(r: &Row<'_>) -> rusqlite::Result<RawWarning> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        (r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?),
    ))
}

fn note_of(raw: RawNote) -> Result<Option<WarningNote>, StoreError> {
    let (Some(text), Some(by), Some(at), Some(status)) = raw else { return Ok(None) };
    let status = WarningStatus::parse(&status).ok_or_else(|| damaged(format!("warning change status `{status}`")))?;
    Ok(Some(WarningNote { text, by, at, status }))
}

fn warning_of(raw: RawWarning) -> Result<EarlyWarning, StoreError> {
    let (id, created, unit, m, kind, value, threshold, reason, run_id, status, status_by, status_at, note) = raw;
    Ok(EarlyWarning {
        id,
        created,
        unit,
        month: month(&m)?,
        kind: WarningKind::parse(&kind).ok_or_else(|| damaged(format!("warning kind `{kind}`")))?,
        value,
        threshold,
        reason,
        run_id,
        status: WarningStatus::parse(&status).ok_or_else(|| damaged(format!("warning status `{status}`")))?,
        status_by,
        status_at,
        note: note_of(note)?,
    })
}

pub(crate) fn warning_by_id(conn: &Connection, id: i64) -> Result<Option<EarlyWarning>, StoreError> {
    let sql = format!("SELECT {WARNING_COLUMNS} FROM {WARNINGS_WITH_NOTE} WHERE w.id = ?1");
    conn.query_row(&sql, [id], raw_warning).optional().map_err(backend)?.map(warning_of).transpose()
}

/// The rows of run `run_id`, by unit then month.
pub(crate) fn rows_of(conn: &Connection, run_id: i64) -> Result<Vec<ForecastRow>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT unit, name, month, mean, p_any, p_ge, quantiles FROM forecast_rows
                 WHERE run_id = ?1 ORDER BY unit, month",
        )
        .map_err(backend)?;
    let raw = stmt
        .query_map([run_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, f64>(3)?,
                r.get::<_, f64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    raw.into_iter()
        .map(|(unit, name, m, mean, p_any, p_ge, quantiles)| {
            Ok(ForecastRow {
                unit,
                name,
                month: month(&m)?,
                mean,
                p_any,
                p_ge: parse_p_ge(&p_ge)?,
                quantiles: parse_quantiles(&quantiles)?,
            })
        })
        .collect()
}

/// Run `id`, if stored.
pub(crate) fn run_by_id(conn: &Connection, id: i64) -> Result<Option<ForecastRun>, StoreError> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM forecast_runs WHERE id = ?1");
    conn.query_row(&sql, [id], raw_run).optional().map_err(backend)?.map(run_of).transpose()
}

/// The run here that stands for `origin`'s run `run` (see `SyncTx::put_forecast`).
fn synced_run(conn: &Connection, origin: &str, run: i64) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT id FROM forecast_runs WHERE sync_origin = ?1 AND sync_run = ?2")
        .map_err(backend)?
        .query_row(params![origin, run], |r| r.get(0))
        .optional()
        .map_err(backend)
}

/// Another node's forecast rows, inside a synchronisation batch's transaction.
pub(crate) fn put_synced_forecast(conn: &Connection, f: &ForecastOf) -> Result<u64, StoreError> {
    let run = &f.run;
    let id = match synced_run(conn, &f.origin, run.id)? {
        Some(id) => id,
        None => {
            conn.execute(
                "INSERT INTO forecast_runs (created, model, unit_kind, target, origin, horizons, skill, parameters,
                                            sync_origin, sync_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    run.created,
                    run.model,
                    run.unit_kind,
                    run.target,
                    run.origin.to_string(),
                    horizons_text(&run.horizons),
                    run.skill,
                    run.parameters,
                    f.origin,
                    run.id
                ],
            )
            .map_err(backend)?;
            conn.last_insert_rowid()
        }
    };
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO forecast_rows (run_id, unit, name, month, mean, p_any, p_ge, quantiles)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (run_id, unit, month) DO NOTHING",
        )
        .map_err(backend)?;
    let mut new = 0;
    for r in &f.rows {
        new += insert
            .execute(params![
                id,
                r.unit,
                r.name,
                r.month.to_string(),
                r.mean,
                r.p_any,
                p_ge_json(&r.p_ge),
                quantiles_json(&r.quantiles)
            ])
            .map_err(backend)? as u64;
    }
    Ok(new)
}

/// Another node's warning, inside a synchronisation batch's transaction.
pub(crate) fn put_synced_warning(conn: &Connection, w: &WarningOf) -> Result<bool, StoreError> {
    let x = &w.warning;
    let run = match x.run_id {
        Some(run) => synced_run(conn, &w.origin, run)?,
        None => None,
    };
    let inserted = conn
        .execute(
            "INSERT INTO early_warnings (created, unit, month, kind, value, threshold, reason, run_id, status, status_by,
                                         status_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (unit, month, kind) DO NOTHING",
            params![
                x.created,
                x.unit,
                x.month.to_string(),
                x.kind.as_str(),
                x.value,
                x.threshold,
                x.reason,
                run,
                x.status.as_str(),
                x.status_by,
                x.status_at
            ],
        )
        .map_err(backend)?;
    if inserted == 0 {
        return Ok(false);
    }
    if let Some(note) = &x.note {
        conn.execute(
            "INSERT INTO early_warning_changes (warning_id, status, by_user, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![conn.last_insert_rowid(), note.status.as_str(), note.by, note.at, note.text],
        )
        .map_err(backend)?;
    }
    Ok(true)
}

impl ForecastStore for SqliteStore {
    fn save_forecast_run(&self, run: &ForecastRun, rows: &[ForecastRow]) -> Result<i64, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        tx.execute(
            "INSERT INTO forecast_runs (created, model, unit_kind, target, origin, horizons, skill, parameters)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                now(),
                run.model,
                run.unit_kind,
                run.target,
                run.origin.to_string(),
                horizons_text(&run.horizons),
                run.skill,
                run.parameters
            ],
        )
        .map_err(backend)?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO forecast_rows (run_id, unit, name, month, mean, p_any, p_ge, quantiles)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(backend)?;
            for r in rows {
                insert
                    .execute(params![
                        id,
                        r.unit,
                        r.name,
                        r.month.to_string(),
                        r.mean,
                        r.p_any,
                        p_ge_json(&r.p_ge),
                        quantiles_json(&r.quantiles)
                    ])
                    .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)?;
        Ok(id)
    }

    fn latest_forecast_run(&self, unit_kind: Option<&str>) -> Result<Option<ForecastRun>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {RUN_COLUMNS} FROM forecast_runs WHERE ?1 IS NULL OR unit_kind = ?1 ORDER BY id DESC LIMIT 1"
            );
            conn.query_row(&sql, [unit_kind], raw_run).optional().map_err(backend)?.map(run_of).transpose()
        })
    }

    fn forecast_rows(&self, run_id: i64) -> Result<Vec<ForecastRow>, StoreError> {
        self.read(|conn| rows_of(conn, run_id))
    }

    fn add_warnings(&self, warnings: &[EarlyWarning]) -> Result<Vec<EarlyWarning>, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let created = now();
        let mut added = Vec::new();
        for w in warnings {
            let inserted = tx
                .execute(
                    "INSERT INTO early_warnings (created, unit, month, kind, value, threshold, reason, run_id, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'new')
                     ON CONFLICT (unit, month, kind) DO NOTHING",
                    params![
                        created,
                        w.unit,
                        w.month.to_string(),
                        w.kind.as_str(),
                        w.value,
                        w.threshold,
                        w.reason,
                        w.run_id
                    ],
                )
                .map_err(backend)?;
            if inserted == 1 {
                let id = tx.last_insert_rowid();
                added.push(warning_by_id(&tx, id)?.ok_or_else(|| damaged("warning just added"))?);
            }
        }
        tx.commit().map_err(backend)?;
        Ok(added)
    }

    fn warnings(&self, filter: &WarningFilter) -> Result<Vec<EarlyWarning>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {WARNING_COLUMNS} FROM {WARNINGS_WITH_NOTE}
                 WHERE (?1 IS NULL OR w.status = ?1) AND (?2 = 0 OR w.status <> 'closed') AND (?3 IS NULL OR w.unit = ?3)
                 ORDER BY w.id DESC"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let raw = stmt
                .query_map(params![filter.status.map(WarningStatus::as_str), filter.open_only, filter.unit], raw_warning)
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            raw.into_iter().map(warning_of).collect()
        })
    }

    fn set_warning_status(
        &self,
        id: i64,
        status: WarningStatus,
        user: &str,
        at: &str,
        note: Option<&str>,
    ) -> Result<Option<EarlyWarning>, StoreError> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let changed = tx
            .execute(
                "UPDATE early_warnings SET status = ?2, status_by = ?3, status_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), user, at],
            )
            .map_err(backend)?;
        if changed == 1 {
            tx.execute(
                "INSERT INTO early_warning_changes (warning_id, status, by_user, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, status.as_str(), user, at, note],
            )
            .map_err(backend)?;
        }
        let found = warning_by_id(&tx, id)?;
        tx.commit().map_err(backend)?;
        Ok(found)
    }
}
