//! Synchronisation in PostgreSQL (migration 10): the same tables as the
//! SQLite store. The change log's seq comes from an identity column, which
//! concurrent transactions may commit out of order; a feed therefore locks
//! `sync_log` in SHARE mode before reading it, waiting for every writer
//! still running (their triggers hold ROW EXCLUSIVE on it), so no seq below
//! the cursor it hands out can appear later. Writers wait while a feed
//! reads one batch.

use std::collections::HashMap;

use jiff::Timestamp;
use postgres::{GenericClient, Transaction};
use vitalcore_framework::{Area, Event};
use vitalcore_intake::report::{Reference, Report};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_security::audit::AuditEvent;
use vitalcore_security::auth::User;
use vitalcore_store::report_codec::{damaged, parse_time, received_ns, step_record};
use vitalcore_store::sync::{
    ApplyFn, Changes, Conflict, Direction, EventOf, ForecastOf, ImportOf, Node, NodeRole, Office, Origins, RecordKind,
    ReportRecord, Scope, StepOf, SyncRecord, SyncStore, SyncTx, UserOf, WarningOf,
};
use vitalcore_store::{ImportCounts, StoreError};

use super::sync_up;
use super::{
    InsertStatements, REPORT_COLUMNS, db, insert_prepared, insert_report, insert_step, links_of, read_report,
    read_steps, step_detail,
};
use crate::PostgresStore;
use vitalcore_framework::Month;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxMessage};
use vitalcore_store::forecasts::WarningKind;
use vitalcore_store::reports::TagCorrection;
use vitalcore_store::sync::{WarningChange, WarningChangeOf};

fn opt_time(text: Option<String>, what: &str) -> Result<Option<Timestamp>, StoreError> {
    text.map(|t| parse_time(&t, what)).transpose()
}

fn kind_from(text: &str) -> Result<RecordKind, StoreError> {
    RecordKind::parse(text).ok_or_else(|| damaged(format!("change log kind `{text}`")))
}

fn read_node(client: &mut impl GenericClient) -> Result<Option<Node>, StoreError> {
    let Some(r) = client
        .query_opt(
            "SELECT node_id, name, role, space, hq_node, credential_hash, created_at, last_sync, pending_down
             FROM sync_node WHERE id = 1",
            &[],
        )
        .map_err(db)?
    else {
        return Ok(None);
    };
    let role: String = r.get(2);
    let space: i16 = r.get(3);
    let pending_down: i64 = r.get(8);
    Ok(Some(Node {
        node_id: r.get(0),
        name: r.get(1),
        role: NodeRole::parse(&role).ok_or_else(|| damaged(format!("node role `{role}`")))?,
        space: u8::try_from(space).map_err(|_| damaged("node reference space"))?,
        hq_node: r.get(4),
        credential_hash: r.get(5),
        created_at: parse_time(r.get(6), "node creation time")?,
        last_sync: opt_time(r.get(7), "last sync time")?,
        pending_down: u64::try_from(pending_down).unwrap_or(0),
    }))
}

fn area_of(r: &postgres::Row) -> Area {
    let level: i16 = r.get(2);
    Area {
        pcode: r.get(0),
        name: r.get(1),
        level: u8::try_from(level).unwrap_or(0),
        parent_pcode: r.get(3),
        country: r.get(4),
        geometry: r.get(5),
    }
}

fn write_cursor(
    client: &mut impl GenericClient,
    peer: &str,
    direction: Direction,
    cursor: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO sync_cursors (peer, direction, cursor, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (peer, direction) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            &[&peer, &direction.as_str(), &cursor, &at.to_string()],
        )
        .map_err(db)?;
    Ok(())
}

/// The WHERE clause of a scope over `sync_log` (after `seq > $1`) and its text arguments.
/// `first` is the number of its first placeholder.
fn scope_sql(scope: &Scope, first: usize) -> (String, Vec<String>) {
    let mut args = Vec::new();
    let kinds: Vec<String> = scope.kinds.iter().map(|k| format!("'{}'", k.as_str())).collect();
    let mut sql = format!(" AND kind IN ({})", kinds.join(", "));
    match &scope.origins {
        Origins::Local => sql.push_str(" AND origin IS NULL"),
        Origins::Except(node) => {
            args.push(node.clone());
            sql.push_str(&format!(" AND origin IS DISTINCT FROM ${}", args.len() + first - 1));
        }
    }
    if let Some(areas) = &scope.areas {
        let mut any = Vec::new();
        for a in areas {
            args.push(format!("{}%", a.replace(['%', '_', '\\'], "")));
            any.push(format!("area LIKE ${}", args.len() + first - 1));
        }
        if any.is_empty() {
            sql.push_str(" AND false");
        } else {
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
    }
    (sql, args)
}

impl SyncStore for PostgresStore {
    fn node(&self) -> Result<Option<Node>, StoreError> {
        self.report_read(read_node)
    }

    fn init_node(&self, node: &Node) -> Result<Node, StoreError> {
        self.report_tx(|tx| {
            tx.execute(
                "INSERT INTO sync_node (id, node_id, name, role, space, hq_node, credential_hash, created_at)
                 VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[
                    &node.node_id,
                    &node.name,
                    &node.role.as_str(),
                    &i16::from(node.space),
                    &node.hq_node,
                    &node.credential_hash,
                    &node.created_at.to_string(),
                ],
            )
            .map_err(db)?;
            read_node(tx)?.ok_or_else(|| StoreError::Backend("the node was not stored".into()))
        })
    }

    fn node_synced(&self, at: Timestamp, pending_down: u64) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.execute(
                "UPDATE sync_node SET last_sync = $1, pending_down = $2 WHERE id = 1",
                &[&at.to_string(), &i64::try_from(pending_down).unwrap_or(i64::MAX)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn add_office(&self, o: &Office) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.batch_execute("LOCK TABLE sync_offices IN SHARE ROW EXCLUSIVE MODE").map_err(db)?;
            let taken = tx
                .query_opt(
                    "SELECT name FROM sync_offices WHERE name = $1 OR node_id = $2 OR space = $3",
                    &[&o.name, &o.node_id, &i16::from(o.space)],
                )
                .map_err(db)?;
            if let Some(row) = taken {
                let name: String = row.get(0);
                return Err(StoreError::Conflict(format!(
                    "an office `{name}` is already registered with that name, node or reference space; \
                     choose another name (sync office list shows them)"
                )));
            }
            tx.execute(
                "INSERT INTO sync_offices (name, node_id, areas, space, credential_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &o.name,
                    &o.node_id,
                    &o.areas.join(";"),
                    &i16::from(o.space),
                    &o.credential_hash,
                    &o.created_at.to_string(),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn offices(&self) -> Result<Vec<Office>, StoreError> {
        self.report_read(|c| {
            let rows = c
                .query(
                    "SELECT name, node_id, areas, space, credential_hash, created_at, revoked_at, last_sync, pending_up
                     FROM sync_offices ORDER BY name",
                    &[],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let areas: String = r.get(2);
                    let space: i16 = r.get(3);
                    let pending_up: i64 = r.get(8);
                    Ok(Office {
                        name: r.get(0),
                        node_id: r.get(1),
                        areas: areas.split(';').filter(|a| !a.is_empty()).map(str::to_owned).collect(),
                        space: u8::try_from(space).map_err(|_| damaged("office reference space"))?,
                        credential_hash: r.get(4),
                        created_at: parse_time(r.get(5), "office creation time")?,
                        revoked_at: opt_time(r.get(6), "office revocation time")?,
                        last_sync: opt_time(r.get(7), "office last sync time")?,
                        pending_up: u64::try_from(pending_up).unwrap_or(0),
                    })
                })
                .collect()
        })
    }

    fn revoke_office(&self, name: &str, at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE sync_offices SET revoked_at = coalesce(revoked_at, $2) WHERE name = $1",
                    &[&name, &at.to_string()],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("office `{name}`")));
            }
            Ok(())
        })
    }

    fn office_seen(&self, name: &str, at: Timestamp, pending_up: Option<u64>) -> Result<(), StoreError> {
        let pending = pending_up.map(|p| i64::try_from(p).unwrap_or(i64::MAX));
        self.report_tx(|tx| {
            tx.execute(
                "UPDATE sync_offices SET last_sync = $2, pending_up = coalesce($3, pending_up) WHERE name = $1",
                &[&name, &at.to_string(), &pending],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn cursor(&self, peer: &str, direction: Direction) -> Result<i64, StoreError> {
        self.report_read(|c| {
            let row = c
                .query_opt(
                    "SELECT cursor FROM sync_cursors WHERE peer = $1 AND direction = $2",
                    &[&peer, &direction.as_str()],
                )
                .map_err(db)?;
            Ok(row.map(|r| r.get(0)).unwrap_or(0))
        })
    }

    fn set_cursor(&self, peer: &str, direction: Direction, cursor: i64, at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| write_cursor(tx, peer, direction, cursor, at))
    }

    fn changes(&self, since: i64, scope: &Scope, limit: usize) -> Result<Changes, StoreError> {
        self.report_tx(|tx| {
            tx.batch_execute("LOCK TABLE sync_log IN SHARE MODE").map_err(db)?;
            let here = read_node(tx)?.map(|n| n.node_id).unwrap_or_default();
            // Only entries in scope count toward the limit; the cursor then
            // moves past the entries out of scope too.
            let max: i64 = tx.query_one("SELECT coalesce(max(seq), 0) FROM sync_log", &[]).map_err(db)?.get(0);
            let (filter, args) = scope_sql(scope, 4);
            let sql = format!(
                "SELECT seq, kind, row_id, step_seq, pcode, area, origin FROM sync_log
                 WHERE seq > $1 AND seq <= $2{filter} ORDER BY seq LIMIT $3"
            );
            let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&since, &max, &limit_sql];
            for a in &args {
                params.push(a);
            }
            let log = tx.query(&sql, &params).map_err(db)?;
            let more = log.len() == limit;
            let mut out = Changes { records: Vec::new(), next_cursor: since, more };
            // (kind, row id, step seq, pcode, origin) of the entries in scope, in log order.
            let mut wanted = Vec::new();
            for r in &log {
                out.next_cursor = r.get(0);
                let kind = kind_from(r.get(1))?;
                let area: Option<String> = r.get(5);
                let origin: Option<String> = r.get(6);
                let origin_ok = match (&scope.origins, &origin) {
                    (Origins::Local, o) => o.is_none(),
                    (Origins::Except(node), Some(o)) => o != node,
                    (Origins::Except(_), None) => true,
                };
                if scope.kinds.contains(&kind) && origin_ok && scope.covers(area.as_deref()) {
                    let row_id: Option<i64> = r.get(2);
                    let step_seq: Option<i64> = r.get(3);
                    let pcode: Option<String> = r.get(4);
                    wanted.push((kind, row_id, step_seq, pcode, origin.unwrap_or_else(|| here.clone())));
                }
            }
            // Load each kind in one query.
            let report_ids: Vec<i64> =
                wanted.iter().filter(|w| w.0 == RecordKind::Report).filter_map(|w| w.1).collect();
            let mut reports: HashMap<i64, Report> = HashMap::new();
            if !report_ids.is_empty() {
                let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = ANY($1)");
                for row in tx.query(&sql, &[&report_ids]).map_err(db)? {
                    let (id, report) = read_report(&row)?;
                    reports.insert(id, report);
                }
                let mut links = links_of(tx, &report_ids)?;
                for (id, report) in reports.iter_mut() {
                    report.duplicates = links.remove(id).unwrap_or_default();
                }
            }
            let (step_ids, step_seqs): (Vec<i64>, Vec<i64>) =
                wanted.iter().filter(|w| w.0 == RecordKind::Step).filter_map(|w| Some((w.1?, w.2?))).unzip();
            let mut steps: HashMap<(i64, i64), StepRecord> = HashMap::new();
            if !step_ids.is_empty() {
                let rows = tx
                    .query(
                        "SELECT s.report_id, s.seq, r.reference, s.detail, s.user_id, s.at, s.channel
                         FROM unnest($1::bigint[], $2::bigint[]) AS w (report_id, seq)
                         JOIN alert_steps s ON s.report_id = w.report_id AND s.seq = w.seq
                         JOIN reports r ON r.id = s.report_id",
                        &[&step_ids, &step_seqs],
                    )
                    .map_err(db)?;
                for r in rows {
                    let reference: String = r.get(2);
                    let alert: Reference =
                        reference.parse().map_err(|_| damaged(format!("report reference `{reference}`")))?;
                    let step = step_record(&alert, r.get(1), r.get(3), r.get(4), r.get(5), r.get(6))?;
                    steps.insert((r.get(0), r.get(1)), step);
                }
            }
            let pcodes: Vec<String> =
                wanted.iter().filter(|w| w.0 == RecordKind::Area).filter_map(|w| w.3.clone()).collect();
            let mut areas: HashMap<String, Area> = HashMap::new();
            if !pcodes.is_empty() {
                let rows = tx
                    .query(
                        "SELECT pcode, name, level, parent_pcode, country, geometry FROM areas WHERE pcode = ANY($1)",
                        &[&pcodes],
                    )
                    .map_err(db)?;
                for r in rows {
                    let a = area_of(&r);
                    areas.insert(a.pcode.clone(), a);
                }
            }
            let event_ids: Vec<i64> = wanted.iter().filter(|w| w.0 == RecordKind::Event).filter_map(|w| w.1).collect();
            let mut events = crate::events::by_ids(tx, &event_ids)?;
            let mut import_ids: Vec<i64> = events.values().map(|(import, _)| *import).collect();
            import_ids.sort_unstable();
            import_ids.dedup();
            let mut imports = crate::events::imports_by_ids(tx, &import_ids, &here)?;
            // The id each import travels under (the origin's own id).
            let travels_as: HashMap<i64, i64> = imports.iter().map(|(id, i)| (*id, i.id)).collect();
            // A forecast run goes once, with its rows of the units logged in this batch.
            let mut units: HashMap<i64, std::collections::HashSet<String>> = HashMap::new();
            for w in wanted.iter().filter(|w| w.0 == RecordKind::Forecast) {
                if let Some(run) = w.1 {
                    units.entry(run).or_default().extend(w.3.clone());
                }
            }
            if !more {
                out.next_cursor = max.max(since);
            }
            for (kind, row_id, step_seq, pcode, origin) in wanted {
                let record = match kind {
                    RecordKind::Report => row_id.and_then(|id| reports.get(&id)).map(|report| {
                        let contact = report.contact.as_ref().map(|c| c.as_stored().to_string());
                        SyncRecord::Report(Box::new(ReportRecord { origin, report: report.clone(), contact }))
                    }),
                    RecordKind::Step => row_id
                        .zip(step_seq)
                        .and_then(|k| steps.get(&k))
                        .map(|step| SyncRecord::Step(Box::new(StepOf { origin, step: step.clone() }))),
                    RecordKind::Area => {
                        pcode.and_then(|p| areas.get(&p)).map(|area| SyncRecord::Area { origin, area: area.clone() })
                    }
                    RecordKind::Outbox | RecordKind::Correction | RecordKind::WarningChange => {
                        super::sync_up::load(tx, kind, row_id, step_seq, origin)?
                    }
                    // An event listed twice (imported, then revised) goes
                    // once, as it is now, its import's file record ahead of it.
                    RecordKind::Event => row_id.and_then(|id| events.remove(&id)).map(|(import, event)| {
                        if let Some(file) = imports.remove(&import) {
                            out.records.push(SyncRecord::Import(Box::new(file)));
                        }
                        SyncRecord::Event(Box::new(EventOf { origin, import: travels_as[&import], event }))
                    }),
                    RecordKind::Import => return Err(damaged("change log entry of an import file record")),
                    RecordKind::Forecast => match row_id.and_then(|run| Some((run, units.remove(&run)?))) {
                        None => None,
                        Some((id, wanted)) => crate::forecasts::run_by_id(tx, id)?.map(|run| {
                            crate::forecasts::rows_of(tx, id).map(|rows| {
                                let rows = rows.into_iter().filter(|r| wanted.contains(&r.unit)).collect();
                                SyncRecord::Forecast(Box::new(ForecastOf { origin, run, rows }))
                            })
                        }),
                    }
                    .transpose()?,
                    // A warning goes with its status changes after it.
                    RecordKind::Warning => {
                        if let Some(mut warning) =
                            row_id.map(|id| crate::forecasts::warning_by_id(tx, id)).transpose()?.flatten()
                        {
                            if let Some(run) = warning.run_id {
                                warning.run_id = Some(crate::forecasts::synced_run_id(tx, run)?.unwrap_or(run));
                            }
                            let history = super::sync_up::changes_of_warning(tx, warning.id)?;
                            out.records.extend(vitalcore_store::sync::warning_with_history(origin, warning, history));
                        }
                        None
                    }
                    RecordKind::User => match pcode {
                        None => None,
                        Some(id) => super::find_user_in(tx, "id", &id, "")?.map(|user| {
                            let password_hash = user.password_hash.clone();
                            SyncRecord::User(Box::new(UserOf { origin, user, password_hash }))
                        }),
                    },
                };
                out.records.extend(record);
            }
            Ok(out)
        })
    }

    fn pending(&self, since: i64, scope: &Scope) -> Result<u64, StoreError> {
        self.report_read(|c| {
            let (filter, args) = scope_sql(scope, 2);
            let sql = format!("SELECT count(*) FROM sync_log WHERE seq > $1{filter}");
            let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&since];
            for a in &args {
                params.push(a);
            }
            let n: i64 = c.query_one(&sql, &params).map_err(db)?.get(0);
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn apply(&self, apply: &mut ApplyFn<'_>) -> Result<(), StoreError> {
        self.report_tx(|tx| apply(&mut PgSyncTx { tx }))
    }

    fn conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        self.report_read(|c| {
            let rows = c
                .query("SELECT peer, kind, key, reason, record, at FROM sync_conflicts ORDER BY id", &[])
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(Conflict {
                        peer: r.get(0),
                        kind: kind_from(r.get(1))?,
                        key: r.get(2),
                        reason: r.get(3),
                        record: r.get(4),
                        at: parse_time(r.get(5), "conflict time")?,
                    })
                })
                .collect()
        })
    }
}

struct PgSyncTx<'a, 'b> {
    tx: &'a mut Transaction<'b>,
}

impl SyncTx for PgSyncTx<'_, '_> {
    fn applied(&mut self, batch_id: &str) -> Result<bool, StoreError> {
        Ok(self.tx.query_opt("SELECT 1 FROM sync_applied WHERE batch_id = $1", &[&batch_id]).map_err(db)?.is_some())
    }

    fn set_origin(&mut self, origin: Option<&str>) -> Result<(), StoreError> {
        self.tx
            .execute("SELECT set_config('vitalcore.sync_origin', $1, true)", &[&origin.unwrap_or("")])
            .map_err(db)?;
        Ok(())
    }

    fn report(&mut self, reference: &Reference) -> Result<Option<Report>, StoreError> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE reference = $1");
        let Some(row) = self.tx.query_opt(&sql, &[&reference.as_str()]).map_err(db)? else { return Ok(None) };
        let (id, mut report) = read_report(&row)?;
        report.duplicates = links_of(self.tx, &[id])?.remove(&id).unwrap_or_default();
        Ok(Some(report))
    }

    fn insert_report(&mut self, report: &Report) -> Result<(), StoreError> {
        let ns = received_ns(report)?;
        // Under a savepoint: a refused insert (a conflict the caller keeps)
        // must not abort the batch's transaction.
        let mut sp = self.tx.transaction().map_err(db)?;
        insert_report(&mut sp, report, ns)?;
        sp.commit().map_err(db)
    }

    fn reports_of(&mut self, references: &[Reference]) -> Result<Vec<Report>, StoreError> {
        let refs: Vec<&str> = references.iter().map(Reference::as_str).collect();
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE reference = ANY($1)");
        let rows = self.tx.query(&sql, &[&refs]).map_err(db)?;
        rows.iter().map(|r| read_report(r).map(|(_, report)| report)).collect()
    }

    fn insert_reports(&mut self, reports: &[Report]) -> Result<(), StoreError> {
        let times = reports.iter().map(received_ns).collect::<Result<Vec<_>, _>>()?;
        let mut sp = self.tx.transaction().map_err(db)?;
        let stmts = InsertStatements::prepare(&mut sp, reports.iter().any(|r| !r.duplicates.is_empty()))?;
        for (r, ns) in reports.iter().zip(times) {
            insert_prepared(&mut sp, &stmts, r, ns)?;
        }
        sp.commit().map_err(db)
    }

    fn steps(&mut self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
        read_steps(&mut *self.tx, alert)
    }

    fn steps_of(&mut self, alerts: &[Reference]) -> Result<Vec<StepRecord>, StoreError> {
        super::read_steps_of(&mut *self.tx, alerts)
    }

    fn append_step(&mut self, record: &StepRecord) -> Result<(), StoreError> {
        let detail = step_detail(record)?;
        let mut sp = self.tx.transaction().map_err(db)?;
        insert_step(&mut sp, record, &detail)?;
        sp.commit().map_err(db)
    }

    fn area(&mut self, pcode: &str) -> Result<Option<Area>, StoreError> {
        let row = self
            .tx
            .query_opt(
                "SELECT pcode, name, level, parent_pcode, country, geometry FROM areas WHERE pcode = $1",
                &[&pcode],
            )
            .map_err(db)?;
        Ok(row.as_ref().map(area_of))
    }

    fn save_area(&mut self, a: &Area) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO areas (pcode, name, level, parent_pcode, country, geometry)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (pcode) DO UPDATE SET name = excluded.name, level = excluded.level,
                     parent_pcode = excluded.parent_pcode, country = excluded.country, geometry = excluded.geometry",
                &[&a.pcode, &a.name, &i16::from(a.level), &a.parent_pcode, &a.country, &a.geometry],
            )
            .map_err(db)?;
        Ok(())
    }

    fn queue_notifications(
        &mut self,
        drafts: &[vitalcore_intake::notify::NotificationDraft],
    ) -> Result<(), StoreError> {
        super::notify::queue(self.tx, drafts).map(|_| ())
    }

    fn add_conflict(&mut self, c: &Conflict) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO sync_conflicts (peer, kind, key, reason, record, at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&c.peer, &c.kind.as_str(), &c.key, &c.reason, &c.record, &c.at.to_string()],
            )
            .map_err(db)?;
        Ok(())
    }

    fn put_events(&mut self, import: &ImportOf, events: &[Event]) -> Result<ImportCounts, StoreError> {
        crate::events::put_synced(self.tx, import, events)
    }

    fn put_forecast(&mut self, forecast: &ForecastOf) -> Result<u64, StoreError> {
        crate::forecasts::put_synced_forecast(self.tx, forecast)
    }

    fn put_warning(&mut self, warning: &WarningOf) -> Result<bool, StoreError> {
        crate::forecasts::put_synced_warning(self.tx, warning)
    }

    fn put_user(&mut self, user: &User, by: &str) -> Result<bool, StoreError> {
        let before = super::find_user_in(self.tx, "id", &user.id, " FOR UPDATE")?;
        if before.as_ref() == Some(user) {
            return Ok(false);
        }
        super::upsert_user(self.tx, user)?;
        for event in AuditEvent::user_saved(before.as_ref(), user, by, Timestamp::now()) {
            super::audit::append(self.tx, &event)?;
        }
        if !user.active {
            self.tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user.id]).map_err(db)?;
        }
        Ok(true)
    }

    fn finish(
        &mut self,
        batch_id: &str,
        peer: &str,
        records: u64,
        at: Timestamp,
        cursor: Option<(&str, Direction, i64)>,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO sync_applied (batch_id, peer, records, applied_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (batch_id) DO NOTHING",
                &[&batch_id, &peer, &i64::try_from(records).unwrap_or(i64::MAX), &at.to_string()],
            )
            .map_err(db)?;
        if let Some((peer, direction, cursor)) = cursor {
            write_cursor(self.tx, peer, direction, cursor, at)?;
        }
        Ok(())
    }

    fn outbox_of(&mut self, report: &Reference) -> Result<Vec<OutboxMessage>, StoreError> {
        sync_up::outbox_of(self.tx, report)
    }

    fn outbox_of_many(&mut self, reports: &[Reference]) -> Result<Vec<OutboxMessage>, StoreError> {
        sync_up::outbox_of_many(self.tx, reports)
    }

    fn queue_message(&mut self, draft: &OutboxDraft) -> Result<(), StoreError> {
        sync_up::queue_message(self.tx, draft)
    }

    fn append_outbox_change(&mut self, change: &OutboxChange) -> Result<(), StoreError> {
        sync_up::append_outbox_change(self.tx, change)
    }

    fn corrections_of(&mut self, report: &Reference) -> Result<Vec<TagCorrection>, StoreError> {
        sync_up::corrections_of(self.tx, report)
    }

    fn corrections_of_many(&mut self, reports: &[Reference]) -> Result<Vec<TagCorrection>, StoreError> {
        sync_up::corrections_of_many(self.tx, reports)
    }

    fn add_correction(&mut self, correction: &TagCorrection, set_tags: bool) -> Result<(), StoreError> {
        sync_up::add_correction(self.tx, correction, set_tags)
    }

    fn warning_changes(
        &mut self,
        unit: &str,
        month: Month,
        kind: WarningKind,
    ) -> Result<Option<Vec<WarningChange>>, StoreError> {
        sync_up::warning_changes(self.tx, unit, month, kind)
    }

    fn add_warning_change(&mut self, change: &WarningChangeOf, set_status: bool) -> Result<(), StoreError> {
        sync_up::add_warning_change(self.tx, change, set_status)
    }
}
