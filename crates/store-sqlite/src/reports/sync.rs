//! Synchronisation in SQLite (migration 10): this node, the offices, cursors,
//! the change log the triggers write, applied batches and conflicts
//! ([`SyncStore`]). A batch is applied in one `BEGIN IMMEDIATE` transaction
//! on the writer connection; SQLite has one writer at a time, so the log's
//! seq order is its commit order.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use vitalcore_framework::{Area, Event};
use vitalcore_intake::report::{Reference, Report};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_security::audit::AuditEvent;
use vitalcore_security::auth::User;
use vitalcore_store::report_codec::{damaged, parse_time, step_record};
use vitalcore_store::sync::{
    ApplyFn, Changes, Conflict, Direction, EventOf, ForecastOf, ImportOf, Node, NodeRole, Office, Origins, RecordKind,
    ReportRecord, Scope, StepOf, SyncRecord, SyncStore, SyncTx, UserOf, WarningOf,
};
use vitalcore_store::{ImportCounts, StoreError};

use super::sync_up;
use super::{
    REPORT_COLUMNS, ReportRow, db, insert_many, insert_report, insert_step, read_report, read_steps, report_id,
    step_detail, with_links,
};
use crate::SqliteStore;
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

fn read_node(conn: &Connection) -> Result<Option<Node>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT node_id, name, role, space, hq_node, credential_hash, created_at, last_sync, pending_down
             FROM sync_node WHERE id = 1",
        )
        .map_err(db)?
        .query_row([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<Vec<u8>>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })
        .optional()
        .map_err(db)?;
    let Some((node_id, name, role, space, hq_node, credential_hash, created_at, last_sync, pending_down)) = row else {
        return Ok(None);
    };
    Ok(Some(Node {
        node_id,
        name,
        role: NodeRole::parse(&role).ok_or_else(|| damaged(format!("node role `{role}`")))?,
        space: u8::try_from(space).map_err(|_| damaged("node reference space"))?,
        hq_node,
        credential_hash,
        created_at: parse_time(&created_at, "node creation time")?,
        last_sync: opt_time(last_sync, "last sync time")?,
        pending_down: u64::try_from(pending_down).unwrap_or(0),
    }))
}

fn read_area(conn: &Connection, pcode: &str) -> Result<Option<Area>, StoreError> {
    conn.prepare_cached("SELECT pcode, name, level, parent_pcode, country, geometry FROM areas WHERE pcode = ?1")
        .map_err(db)?
        .query_row([pcode], |r| {
            Ok(Area {
                pcode: r.get(0)?,
                name: r.get(1)?,
                level: r.get(2)?,
                parent_pcode: r.get(3)?,
                country: r.get(4)?,
                geometry: r.get(5)?,
            })
        })
        .optional()
        .map_err(db)
}

fn read_report_by(conn: &Connection, column: &str, value: &dyn rusqlite::ToSql) -> Result<Option<Report>, StoreError> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE {column} = ?1");
    let found = conn.prepare_cached(&sql).map_err(db)?.query_row([value], read_report).optional().map_err(db)?;
    match found {
        None => Ok(None),
        Some(row) => row.and_then(|(id, report)| with_links(conn, id, report)).map(Some),
    }
}

/// The WHERE clause of a scope over `sync_log` (after `seq > ?1`), with its arguments.
/// `first` is the number of its first placeholder.
fn scope_sql(scope: &Scope, first: usize) -> (String, Vec<String>) {
    let mut args = Vec::new();
    let kinds: Vec<String> = scope.kinds.iter().map(|k| format!("'{}'", k.as_str())).collect();
    let mut sql = format!(" AND kind IN ({})", kinds.join(", "));
    match &scope.origins {
        Origins::Local => sql.push_str(" AND origin IS NULL"),
        Origins::Except(node) => {
            args.push(node.clone());
            sql.push_str(&format!(" AND origin IS NOT ?{}", args.len() + first - 1));
        }
    }
    if let Some(areas) = &scope.areas {
        let mut any = Vec::new();
        for a in areas {
            args.push(format!("{}%", a.replace(['%', '_'], "")));
            any.push(format!("area LIKE ?{}", args.len() + first - 1));
        }
        if any.is_empty() {
            sql.push_str(" AND 0");
        } else {
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
    }
    (sql, args)
}

impl SyncStore for SqliteStore {
    fn node(&self) -> Result<Option<Node>, StoreError> {
        self.report_read(read_node)
    }

    fn init_node(&self, node: &Node) -> Result<Node, StoreError> {
        self.report_tx(|tx| {
            if let Some(stored) = read_node(tx)? {
                return Ok(stored);
            }
            tx.execute(
                "INSERT INTO sync_node (id, node_id, name, role, space, hq_node, credential_hash, created_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    node.node_id,
                    node.name,
                    node.role.as_str(),
                    node.space,
                    node.hq_node,
                    node.credential_hash,
                    node.created_at.to_string()
                ],
            )
            .map_err(db)?;
            read_node(tx)?.ok_or_else(|| StoreError::Backend("the node was not stored".into()))
        })
    }

    fn node_synced(&self, at: Timestamp, pending_down: u64) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.execute(
                "UPDATE sync_node SET last_sync = ?1, pending_down = ?2 WHERE id = 1",
                params![at.to_string(), i64::try_from(pending_down).unwrap_or(i64::MAX)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn add_office(&self, o: &Office) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let taken: Option<String> = tx
                .query_row(
                    "SELECT name FROM sync_offices WHERE name = ?1 OR node_id = ?2 OR space = ?3",
                    params![o.name, o.node_id, o.space],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if let Some(name) = taken {
                return Err(StoreError::Conflict(format!(
                    "an office `{name}` is already registered with that name, node or reference space; \
                     choose another name (sync office list shows them)"
                )));
            }
            tx.execute(
                "INSERT INTO sync_offices (name, node_id, areas, space, credential_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![o.name, o.node_id, o.areas.join(";"), o.space, o.credential_hash, o.created_at.to_string()],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn offices(&self) -> Result<Vec<Office>, StoreError> {
        self.report_read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT name, node_id, areas, space, credential_hash, created_at, revoked_at, last_sync, pending_up
                     FROM sync_offices ORDER BY name",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Vec<u8>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, i64>(8)?,
                    ))
                })
                .map_err(db)?;
            rows.map(|row| {
                let (name, node_id, areas, space, credential_hash, created_at, revoked_at, last_sync, pending_up) =
                    row.map_err(db)?;
                Ok(Office {
                    name,
                    node_id,
                    areas: areas.split(';').filter(|a| !a.is_empty()).map(str::to_owned).collect(),
                    space: u8::try_from(space).map_err(|_| damaged("office reference space"))?,
                    credential_hash,
                    created_at: parse_time(&created_at, "office creation time")?,
                    revoked_at: opt_time(revoked_at, "office revocation time")?,
                    last_sync: opt_time(last_sync, "office last sync time")?,
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
                    "UPDATE sync_offices SET revoked_at = coalesce(revoked_at, ?2) WHERE name = ?1",
                    params![name, at.to_string()],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("office `{name}`")));
            }
            Ok(())
        })
    }

    fn office_seen(&self, name: &str, at: Timestamp, pending_up: Option<u64>) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.execute(
                "UPDATE sync_offices SET last_sync = ?2, pending_up = coalesce(?3, pending_up) WHERE name = ?1",
                params![name, at.to_string(), pending_up.map(|p| i64::try_from(p).unwrap_or(i64::MAX))],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn cursor(&self, peer: &str, direction: Direction) -> Result<i64, StoreError> {
        self.report_read(|conn| {
            conn.prepare_cached("SELECT cursor FROM sync_cursors WHERE peer = ?1 AND direction = ?2")
                .map_err(db)?
                .query_row(params![peer, direction.as_str()], |r| r.get(0))
                .optional()
                .map_err(db)
                .map(|c| c.unwrap_or(0))
        })
    }

    fn set_cursor(&self, peer: &str, direction: Direction, cursor: i64, at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| write_cursor(tx, peer, direction, cursor, at))
    }

    fn changes(&self, since: i64, scope: &Scope, limit: usize) -> Result<Changes, StoreError> {
        self.report_read(|conn| {
            let here = read_node(conn)?.map(|n| n.node_id).unwrap_or_default();
            // Only entries in scope count toward the limit; the cursor then
            // moves past the entries out of scope too (up to the end of the
            // log as it was when the read began).
            let max: i64 =
                conn.query_row("SELECT coalesce(max(seq), 0) FROM sync_log", [], |r| r.get(0)).map_err(db)?;
            let (filter, args) = scope_sql(scope, 4);
            let sql = format!(
                "SELECT seq, kind, row_id, step_seq, pcode, area, origin FROM sync_log
                 WHERE seq > ?1 AND seq <= ?2{filter} ORDER BY seq LIMIT ?3"
            );
            let mut values: Vec<rusqlite::types::Value> =
                vec![since.into(), max.into(), i64::try_from(limit).unwrap_or(i64::MAX).into()];
            values.extend(args.into_iter().map(rusqlite::types::Value::from));
            let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values), |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })
                .map_err(db)?;
            let mut out = Changes { records: Vec::new(), next_cursor: since, more: false };
            let mut scanned = 0usize;
            let mut later = Vec::new();
            for row in rows {
                let (seq, kind, row_id, step_seq, pcode, area, origin) = row.map_err(db)?;
                scanned += 1;
                out.next_cursor = seq;
                let kind = kind_from(&kind)?;
                let origin_ok = match (&scope.origins, &origin) {
                    (Origins::Local, o) => o.is_none(),
                    (Origins::Except(node), Some(o)) => o != node,
                    (Origins::Except(_), None) => true,
                };
                if !scope.kinds.contains(&kind) || !origin_ok || !scope.covers(area.as_deref()) {
                    continue;
                }
                let origin = origin.unwrap_or_else(|| here.clone());
                if matches!(kind, RecordKind::Event | RecordKind::Forecast | RecordKind::Warning) {
                    let Some(id) = row_id else { return Err(damaged(format!("change log entry of a {kind:?}"))) };
                    later.push(Later { at: out.records.len(), kind, id, unit: pcode, origin });
                    continue;
                }
                if let Some(record) = load_record(conn, kind, row_id, step_seq, pcode.as_deref(), origin)? {
                    out.records.push(record);
                }
            }
            drop(stmt);
            out.records = with_later(conn, std::mem::take(&mut out.records), later, &here)?;
            out.more = scanned == limit;
            if !out.more {
                out.next_cursor = max.max(since);
            }
            Ok(out)
        })
    }

    fn pending(&self, since: i64, scope: &Scope) -> Result<u64, StoreError> {
        self.report_read(|conn| {
            let (filter, args) = scope_sql(scope, 2);
            let sql = format!("SELECT count(*) FROM sync_log WHERE seq > ?1{filter}");
            let mut values: Vec<rusqlite::types::Value> = vec![since.into()];
            values.extend(args.into_iter().map(rusqlite::types::Value::from));
            let n: i64 = conn
                .prepare(&sql)
                .map_err(db)?
                .query_row(rusqlite::params_from_iter(values), |r| r.get(0))
                .map_err(db)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn apply(&self, apply: &mut ApplyFn<'_>) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        apply(&mut SqliteSyncTx { tx: &tx })?;
        tx.execute("DELETE FROM sync_apply_origin", []).map_err(db)?;
        tx.commit().map_err(db)
    }

    fn conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        self.report_read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT peer, kind, key, reason, record, at FROM sync_conflicts ORDER BY id")
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .map_err(db)?;
            rows.map(|row| {
                let (peer, kind, key, reason, record, at) = row.map_err(db)?;
                Ok(Conflict {
                    peer,
                    kind: kind_from(&kind)?,
                    key,
                    reason,
                    record,
                    at: parse_time(&at, "conflict time")?,
                })
            })
            .collect()
        })
    }
}

fn write_cursor(
    tx: &Connection,
    peer: &str,
    direction: Direction,
    cursor: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO sync_cursors (peer, direction, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (peer, direction) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
    )
    .map_err(db)?
    .execute(params![peer, direction.as_str(), cursor, at.to_string()])
    .map_err(db)?;
    Ok(())
}

/// A change-log entry read in bulk after the others (events, forecast rows,
/// warnings): where its record goes among them.
struct Later {
    at: usize,
    kind: RecordKind,
    /// events.id, forecast_runs.id or early_warnings.id.
    id: i64,
    /// A forecast row's unit.
    unit: Option<String>,
    origin: String,
}

/// `records` with the later entries read and put in their place in log
/// order: events (in one pass per 500), each import's file record ahead of
/// its first event, an event listed twice (imported, then revised) once as
/// it is now; a forecast run once, with its rows of the units logged in
/// this batch; warnings with their status changes
/// ([`vitalcore_store::sync::warning_with_history`]).
fn with_later(
    conn: &Connection,
    records: Vec<SyncRecord>,
    later: Vec<Later>,
    here: &str,
) -> Result<Vec<SyncRecord>, StoreError> {
    if later.is_empty() {
        return Ok(records);
    }
    let ids: Vec<i64> = later.iter().filter(|l| l.kind == RecordKind::Event).map(|l| l.id).collect();
    let mut stored = crate::events::by_ids(conn, &ids)?;
    let mut import_ids: Vec<i64> = stored.values().map(|(import, _)| *import).collect();
    import_ids.sort_unstable();
    import_ids.dedup();
    let mut imports = crate::events::imports_by_ids(conn, &import_ids, here)?;
    // The id each import travels under (the origin's own id).
    let travels_as: std::collections::HashMap<i64, i64> = imports.iter().map(|(id, i)| (*id, i.id)).collect();
    let mut units: std::collections::HashMap<i64, std::collections::HashSet<String>> = Default::default();
    for l in later.iter().filter(|l| l.kind == RecordKind::Forecast) {
        units.entry(l.id).or_default().extend(l.unit.clone());
    }
    let mut out = Vec::with_capacity(records.len() + later.len());
    let mut records = records.into_iter();
    let mut placed = 0;
    for l in later {
        out.extend(records.by_ref().take(l.at - placed));
        placed = l.at;
        let origin = l.origin;
        match l.kind {
            RecordKind::Event => {
                let Some((import, event)) = stored.remove(&l.id) else { continue };
                if let Some(file) = imports.remove(&import) {
                    out.push(SyncRecord::Import(Box::new(file)));
                }
                let import = travels_as[&import];
                out.push(SyncRecord::Event(Box::new(EventOf { origin, import, event })));
            }
            RecordKind::Forecast => {
                let Some(wanted) = units.remove(&l.id) else { continue };
                let Some(mut run) = crate::forecasts::run_by_id(conn, l.id)? else { continue };
                let rows = crate::forecasts::rows_of(conn, l.id)?.into_iter().filter(|r| wanted.contains(&r.unit));
                run.id = synced_run_id(conn, l.id)?.unwrap_or(run.id);
                out.push(SyncRecord::Forecast(Box::new(ForecastOf { origin, run, rows: rows.collect() })));
            }
            RecordKind::Warning => {
                let Some(mut warning) = crate::forecasts::warning_by_id(conn, l.id)? else { continue };
                if let Some(run) = warning.run_id {
                    warning.run_id = Some(synced_run_id(conn, run)?.unwrap_or(run));
                }
                let history = sync_up::changes_of_warning(conn, l.id)?;
                out.extend(vitalcore_store::sync::warning_with_history(origin, warning, history));
            }
            _ => return Err(damaged("change log entry read out of turn")),
        }
    }
    out.extend(records);
    Ok(out)
}

/// The id at its origin of a forecast run that came from elsewhere.
fn synced_run_id(conn: &Connection, run: i64) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT sync_run FROM forecast_runs WHERE id = ?1")
        .map_err(db)?
        .query_row([run], |r| r.get(0))
        .optional()
        .map_err(db)
        .map(Option::flatten)
}

fn load_record(
    conn: &Connection,
    kind: RecordKind,
    row_id: Option<i64>,
    step_seq: Option<i64>,
    pcode: Option<&str>,
    origin: String,
) -> Result<Option<SyncRecord>, StoreError> {
    Ok(match kind {
        RecordKind::Area => {
            let Some(pcode) = pcode else { return Err(damaged("change log entry of an area")) };
            read_area(conn, pcode)?.map(|area| SyncRecord::Area { origin, area })
        }
        RecordKind::Report => {
            let Some(id) = row_id else { return Err(damaged("change log entry of a report")) };
            read_report_by(conn, "id", &id)?.map(|report| {
                let contact = report.contact.as_ref().map(|c| c.as_stored().to_string());
                SyncRecord::Report(Box::new(ReportRecord { origin, report, contact }))
            })
        }
        RecordKind::Step => {
            let (Some(id), Some(seq)) = (row_id, step_seq) else { return Err(damaged("change log entry of a step")) };
            let found = conn
                .prepare_cached(
                    "SELECT r.reference, s.detail, s.user_id, s.at, s.channel FROM alert_steps s
                     JOIN reports r ON r.id = s.report_id WHERE s.report_id = ?1 AND s.seq = ?2",
                )
                .map_err(db)?
                .query_row(params![id, seq], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .optional()
                .map_err(db)?;
            match found {
                None => None,
                Some((reference, detail, user_id, at, channel)) => {
                    let alert: Reference =
                        reference.parse().map_err(|_| damaged(format!("report reference `{reference}`")))?;
                    let step = step_record(&alert, seq, &detail, user_id, &at, &channel)?;
                    Some(SyncRecord::Step(Box::new(StepOf { origin, step })))
                }
            }
        }
        RecordKind::Outbox | RecordKind::Correction | RecordKind::WarningChange => {
            super::sync_up::load(conn, kind, row_id, step_seq, origin)?
        }
        RecordKind::Event | RecordKind::Import | RecordKind::Forecast | RecordKind::Warning => {
            return Err(damaged("change log entry read out of turn"));
        }
        RecordKind::User => {
            let Some(id) = pcode else { return Err(damaged("change log entry of an account")) };
            super::find_user(conn, "id", id)?.map(|user| {
                let password_hash = user.password_hash.clone();
                SyncRecord::User(Box::new(UserOf { origin, user, password_hash }))
            })
        }
    })
}

struct SqliteSyncTx<'a> {
    tx: &'a Transaction<'a>,
}

impl SyncTx for SqliteSyncTx<'_> {
    fn applied(&mut self, batch_id: &str) -> Result<bool, StoreError> {
        self.tx
            .prepare_cached("SELECT 1 FROM sync_applied WHERE batch_id = ?1")
            .map_err(db)?
            .query_row([batch_id], |_| Ok(()))
            .optional()
            .map_err(db)
            .map(|f| f.is_some())
    }

    fn set_origin(&mut self, origin: Option<&str>) -> Result<(), StoreError> {
        self.tx.prepare_cached("DELETE FROM sync_apply_origin").map_err(db)?.execute([]).map_err(db)?;
        if let Some(origin) = origin {
            self.tx
                .prepare_cached("INSERT INTO sync_apply_origin (origin) VALUES (?1)")
                .map_err(db)?
                .execute([origin])
                .map_err(db)?;
        }
        Ok(())
    }

    fn report(&mut self, reference: &Reference) -> Result<Option<Report>, StoreError> {
        read_report_by(self.tx, "reference", &reference.as_str())
    }

    fn insert_report(&mut self, report: &Report) -> Result<(), StoreError> {
        insert_report(self.tx, report, &ReportRow::of(report)?)
    }

    fn insert_reports(&mut self, reports: &[Report]) -> Result<(), StoreError> {
        let rows = reports.iter().map(ReportRow::of).collect::<Result<Vec<_>, _>>()?;
        self.tx.execute_batch("SAVEPOINT sync_reports").map_err(db)?;
        match insert_many(self.tx, reports, &rows) {
            Ok(()) => self.tx.execute_batch("RELEASE sync_reports").map_err(db),
            Err(e) => {
                self.tx.execute_batch("ROLLBACK TO sync_reports; RELEASE sync_reports").map_err(db)?;
                Err(e)
            }
        }
    }

    fn steps(&mut self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
        if report_id(self.tx, alert)?.is_none() {
            return Ok(Vec::new());
        }
        read_steps(self.tx, alert)
    }

    fn append_step(&mut self, record: &StepRecord) -> Result<(), StoreError> {
        insert_step(self.tx, record, &step_detail(record)?)
    }

    fn area(&mut self, pcode: &str) -> Result<Option<Area>, StoreError> {
        read_area(self.tx, pcode)
    }

    fn save_area(&mut self, a: &Area) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO areas (pcode, name, level, parent_pcode, country, geometry)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (pcode) DO UPDATE SET name = excluded.name, level = excluded.level,
                     parent_pcode = excluded.parent_pcode, country = excluded.country,
                     geometry = excluded.geometry",
            )
            .map_err(db)?
            .execute(params![a.pcode, a.name, a.level, a.parent_pcode, a.country, a.geometry])
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
            .prepare_cached(
                "INSERT INTO sync_conflicts (peer, kind, key, reason, record, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db)?
            .execute(params![c.peer, c.kind.as_str(), c.key, c.reason, c.record, c.at.to_string()])
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
        let before = super::find_user(self.tx, "id", &user.id)?;
        if before.as_ref() == Some(user) {
            return Ok(false);
        }
        super::ensure_username_free(self.tx, user)?;
        super::upsert_user(self.tx, user)?;
        for event in AuditEvent::user_saved(before.as_ref(), user, by, Timestamp::now()) {
            super::audit::append(self.tx, &event)?;
        }
        if !user.active {
            super::delete_sessions_of(self.tx, &user.id)?;
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
            .prepare_cached(
                "INSERT INTO sync_applied (batch_id, peer, records, applied_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (batch_id) DO NOTHING",
            )
            .map_err(db)?
            .execute(params![batch_id, peer, i64::try_from(records).unwrap_or(i64::MAX), at.to_string()])
            .map_err(db)?;
        if let Some((peer, direction, cursor)) = cursor {
            write_cursor(self.tx, peer, direction, cursor, at)?;
        }
        Ok(())
    }

    fn outbox_of(&mut self, report: &Reference) -> Result<Vec<OutboxMessage>, StoreError> {
        sync_up::outbox_of(self.tx, report)
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
