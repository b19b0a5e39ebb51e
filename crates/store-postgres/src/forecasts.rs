//! Forecast runs, their rows and the early-warning queue: vitalcore-store's
//! [`ForecastStore`] in PostgreSQL (schema `migrations/0004_forecasts.sql`;
//! the status changes with their notes `0006_outbox_and_warning_notes.sql`;
//! the same tables and encodings as the SQLite store).

use postgres::{GenericClient, Row};
use vitalcore_store::StoreError;
use vitalcore_store::forecasts::{
    EarlyWarning, ForecastRow, ForecastRun, ForecastStore, WarningFilter, WarningKind, WarningNote, WarningStatus,
    damaged, horizons_text, month, now,
};

use vitalcore_store::sync::{ForecastOf, WarningOf};

use crate::{PostgresStore, backend};

const RUN_COLUMNS: &str = "id, created, model, unit_kind, target, origin, horizons, skill, parameters";
const WARNING_COLUMNS: &str = "w.id, w.created, w.unit, w.month, w.kind, w.value, w.threshold, w.reason, w.run_id, \
    w.status, w.status_by, w.status_at, n.note, n.by_user, n.at, n.status";
/// The warnings with their latest note (the newest change that has one).
const WARNINGS_WITH_NOTE: &str = "early_warnings w LEFT JOIN early_warning_changes n ON n.id = \
    (SELECT max(c.id) FROM early_warning_changes c WHERE c.warning_id = w.id AND c.note IS NOT NULL)";

fn parse_horizons(text: &str) -> Result<Vec<u32>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| damaged(format!("horizon list `{text}`"))))
        .collect()
}

fn json_or_empty(value: serde_json::Result<String>) -> String {
    value.unwrap_or_else(|_| "[]".into())
}

fn run_of(r: &Row) -> Result<ForecastRun, StoreError> {
    Ok(ForecastRun {
        id: r.get(0),
        created: r.get(1),
        model: r.get(2),
        unit_kind: r.get(3),
        target: r.get(4),
        origin: month(r.get(5))?,
        horizons: parse_horizons(r.get(6))?,
        skill: r.get(7),
        parameters: r.get(8),
    })
}

fn warning_of(r: &Row) -> Result<EarlyWarning, StoreError> {
    let kind: &str = r.get(4);
    let status: &str = r.get(9);
    Ok(EarlyWarning {
        id: r.get(0),
        created: r.get(1),
        unit: r.get(2),
        month: month(r.get(3))?,
        kind: WarningKind::parse(kind).ok_or_else(|| damaged(format!("warning kind `{kind}`")))?,
        value: r.get(5),
        threshold: r.get(6),
        reason: r.get(7),
        run_id: r.get(8),
        status: WarningStatus::parse(status).ok_or_else(|| damaged(format!("warning status `{status}`")))?,
        status_by: r.get(10),
        status_at: r.get(11),
        note: note_of(r)?,
    })
}

fn note_of(r: &Row) -> Result<Option<WarningNote>, StoreError> {
    let (Some(text), Some(by), Some(at), Some(status)) = (
        r.get::<_, Option<String>>(12),
        r.get::<_, Option<String>>(13),
        r.get::<_, Option<String>>(14),
        r.get::<_, Option<String>>(15),
    ) else {
        return Ok(None);
    };
    let status = WarningStatus::parse(&status).ok_or_else(|| damaged(format!("warning change status `{status}`")))?;
    Ok(Some(WarningNote { text, by, at, status }))
}

pub(crate) fn warning_by_id(client: &mut impl GenericClient, id: i64) -> Result<Option<EarlyWarning>, StoreError> {
    let sql = format!("SELECT {WARNING_COLUMNS} FROM {WARNINGS_WITH_NOTE} WHERE w.id = $1");
    client.query_opt(&sql, &[&id]).map_err(backend)?.as_ref().map(warning_of).transpose()
}

/// The rows of run `run_id`, by unit then month.
pub(crate) fn rows_of(client: &mut impl GenericClient, run_id: i64) -> Result<Vec<ForecastRow>, StoreError> {
    let rows = client
        .query(
            "SELECT unit, name, month, mean, p_any, p_ge, quantiles FROM forecast_rows
             WHERE run_id = $1 ORDER BY unit, month",
            &[&run_id],
        )
        .map_err(backend)?;
    rows.iter()
        .map(|r| {
            let p_ge: &str = r.get(5);
            let quantiles: &str = r.get(6);
            Ok(ForecastRow {
                unit: r.get(0),
                name: r.get(1),
                month: month(r.get(2))?,
                mean: r.get(3),
                p_any: r.get(4),
                p_ge: serde_json::from_str(p_ge).map_err(|_| damaged(format!("forecast column `{p_ge}`")))?,
                quantiles: serde_json::from_str(quantiles)
                    .map_err(|_| damaged(format!("forecast column `{quantiles}`")))?,
            })
        })
        .collect()
}

/// Run `id` as it travels (its id the origin's), if stored.
pub(crate) fn run_by_id(client: &mut impl GenericClient, id: i64) -> Result<Option<ForecastRun>, StoreError> {
    let sql = format!("SELECT {RUN_COLUMNS}, sync_run FROM forecast_runs WHERE id = $1");
    let Some(row) = client.query_opt(&sql, &[&id]).map_err(backend)? else { return Ok(None) };
    let mut run = run_of(&row)?;
    run.id = row.get::<_, Option<i64>>(9).unwrap_or(run.id);
    Ok(Some(run))
}

/// The id at its origin of a forecast run that came from elsewhere.
pub(crate) fn synced_run_id(client: &mut impl GenericClient, run: i64) -> Result<Option<i64>, StoreError> {
    let row = client.query_opt("SELECT sync_run FROM forecast_runs WHERE id = $1", &[&run]).map_err(backend)?;
    Ok(row.and_then(|r| r.get(0)))
}

/// The run here that stands for `origin`'s run `run` (see `SyncTx::put_forecast`).
fn synced_run(client: &mut impl GenericClient, origin: &str, run: i64) -> Result<Option<i64>, StoreError> {
    let row = client
        .query_opt("SELECT id FROM forecast_runs WHERE sync_origin = $1 AND sync_run = $2", &[&origin, &run])
        .map_err(backend)?;
    Ok(row.map(|r| r.get(0)))
}

/// Another node's forecast rows, inside a synchronisation batch's transaction.
pub(crate) fn put_synced_forecast(client: &mut impl GenericClient, f: &ForecastOf) -> Result<u64, StoreError> {
    let run = &f.run;
    let id: i64 = match synced_run(client, &f.origin, run.id)? {
        Some(id) => id,
        None => client
            .query_one(
                "INSERT INTO forecast_runs (created, model, unit_kind, target, origin, horizons, skill, parameters,
                                            sync_origin, sync_run)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    &run.created,
                    &run.model,
                    &run.unit_kind,
                    &run.target,
                    &run.origin.to_string(),
                    &horizons_text(&run.horizons),
                    &run.skill,
                    &run.parameters,
                    &f.origin,
                    &run.id,
                ],
            )
            .map_err(backend)?
            .get(0),
    };
    let insert = client
        .prepare(
            "INSERT INTO forecast_rows (run_id, unit, name, month, mean, p_any, p_ge, quantiles)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (run_id, unit, month) DO NOTHING",
        )
        .map_err(backend)?;
    let mut new = 0;
    for r in &f.rows {
        let p_ge = json_or_empty(serde_json::to_string(&r.p_ge));
        let quantiles = json_or_empty(serde_json::to_string(&r.quantiles));
        new += client
            .execute(&insert, &[&id, &r.unit, &r.name, &r.month.to_string(), &r.mean, &r.p_any, &p_ge, &quantiles])
            .map_err(backend)?;
    }
    Ok(new)
}

/// Another node's warning, inside a synchronisation batch's transaction.
pub(crate) fn put_synced_warning(client: &mut impl GenericClient, w: &WarningOf) -> Result<bool, StoreError> {
    let x = &w.warning;
    let run = match x.run_id {
        Some(run) => synced_run(client, &w.origin, run)?,
        None => None,
    };
    let inserted = client
        .query_opt(
            "INSERT INTO early_warnings (created, unit, month, kind, value, threshold, reason, run_id, status, status_by,
                                         status_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (unit, month, kind) DO NOTHING
             RETURNING id",
            &[
                &x.created,
                &x.unit,
                &x.month.to_string(),
                &x.kind.as_str(),
                &x.value,
                &x.threshold,
                &x.reason,
                &run,
                &x.status.as_str(),
                &x.status_by,
                &x.status_at,
            ],
        )
        .map_err(backend)?;
    let Some(row) = inserted else { return Ok(false) };
    if let Some(note) = &x.note {
        let id: i64 = row.get(0);
        client
            .execute(
                "INSERT INTO early_warning_changes (warning_id, status, by_user, at, note) VALUES ($1, $2, $3, $4, $5)",
                &[&id, &note.status.as_str(), &note.by, &note.at, &note.text],
            )
            .map_err(backend)?;
    }
    Ok(true)
}

impl ForecastStore for PostgresStore {
    fn save_forecast_run(&self, run: &ForecastRun, rows: &[ForecastRow]) -> Result<i64, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(backend)?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO forecast_runs (created, model, unit_kind, target, origin, horizons, skill, parameters)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &now(),
                    &run.model,
                    &run.unit_kind,
                    &run.target,
                    &run.origin.to_string(),
                    &horizons_text(&run.horizons),
                    &run.skill,
                    &run.parameters,
                ],
            )
            .map_err(backend)?
            .get(0);
        let insert = tx
            .prepare(
                "INSERT INTO forecast_rows (run_id, unit, name, month, mean, p_any, p_ge, quantiles)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .map_err(backend)?;
        for r in rows {
            let p_ge = json_or_empty(serde_json::to_string(&r.p_ge));
            let quantiles = json_or_empty(serde_json::to_string(&r.quantiles));
            tx.execute(&insert, &[&id, &r.unit, &r.name, &r.month.to_string(), &r.mean, &r.p_any, &p_ge, &quantiles])
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(id)
    }

    fn latest_forecast_run(&self, unit_kind: Option<&str>) -> Result<Option<ForecastRun>, StoreError> {
        let mut client = self.client()?;
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM forecast_runs WHERE $1::text IS NULL OR unit_kind = $1 ORDER BY id DESC LIMIT 1"
        );
        client.query_opt(&sql, &[&unit_kind]).map_err(backend)?.as_ref().map(run_of).transpose()
    }

    fn forecast_rows(&self, run_id: i64) -> Result<Vec<ForecastRow>, StoreError> {
        rows_of(&mut *self.client()?, run_id)
    }

    fn add_warnings(&self, warnings: &[EarlyWarning]) -> Result<Vec<EarlyWarning>, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(backend)?;
        let created = now();
        let sql = "INSERT INTO early_warnings (created, unit, month, kind, value, threshold, reason, run_id, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'new')
             ON CONFLICT (unit, month, kind) DO NOTHING
             RETURNING id";
        let mut added = Vec::new();
        for w in warnings {
            let row = tx
                .query_opt(
                    sql,
                    &[
                        &created,
                        &w.unit,
                        &w.month.to_string(),
                        &w.kind.as_str(),
                        &w.value,
                        &w.threshold,
                        &w.reason,
                        &w.run_id,
                    ],
                )
                .map_err(backend)?;
            if let Some(row) = row {
                added.push(warning_by_id(&mut tx, row.get(0))?.ok_or_else(|| damaged("warning just added"))?);
            }
        }
        tx.commit().map_err(backend)?;
        Ok(added)
    }

    fn warnings(&self, filter: &WarningFilter) -> Result<Vec<EarlyWarning>, StoreError> {
        let mut client = self.client()?;
        let sql = format!(
            "SELECT {WARNING_COLUMNS} FROM {WARNINGS_WITH_NOTE}
             WHERE ($1::text IS NULL OR w.status = $1) AND (NOT $2 OR w.status <> 'closed') AND ($3::text IS NULL OR w.unit = $3)
             ORDER BY w.id DESC"
        );
        let rows = client
            .query(&sql, &[&filter.status.map(WarningStatus::as_str), &filter.open_only, &filter.unit])
            .map_err(backend)?;
        rows.iter().map(warning_of).collect()
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
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(backend)?;
        let changed = tx
            .execute(
                "UPDATE early_warnings SET status = $2, status_by = $3, status_at = $4 WHERE id = $1",
                &[&id, &status.as_str(), &user, &at],
            )
            .map_err(backend)?;
        if changed == 1 {
            tx.execute(
                "INSERT INTO early_warning_changes (warning_id, status, by_user, at, note) VALUES ($1, $2, $3, $4, $5)",
                &[&id, &status.as_str(), &user, &at, &note],
            )
            .map_err(backend)?;
        }
        let found = warning_by_id(&mut tx, id)?;
        tx.commit().map_err(backend)?;
        Ok(found)
    }
}
