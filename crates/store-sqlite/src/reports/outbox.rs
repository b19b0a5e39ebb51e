//! The SMS outbox in SQLite: `outbox_messages` (never changed) and their
//! append-only `outbox_status` history (migration 6). Writes run inside the
//! report store's immediate transactions, so the position check and the
//! insert it guards cannot interleave with another writer.

use rusqlite::types::Value;
use rusqlite::{Connection, Transaction, params, params_from_iter};
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage, OutboxStatus};
use vitalcore_store::StoreError;
use vitalcore_store::report_codec::{check_next_change, damaged, outbox_status_from, parse_time};

use super::{db, report_id};

/// Stores a message and its first status, `queued`; returns its id.
pub(super) fn queue(tx: &Transaction<'_>, m: &OutboxDraft) -> Result<i64, StoreError> {
    let report = report_id(tx, &m.report)?.ok_or_else(|| StoreError::NotFound(format!("report {}", m.report)))?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO outbox_messages (report_id, step_seq, language, body, origin)
             VALUES (?1, ?2, ?3, ?4, (SELECT origin FROM sync_apply_origin LIMIT 1))",
        )
        .map_err(db)?
        .execute(params![report, m.step_seq, m.language, m.body]);
    match inserted {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            return Err(StoreError::Conflict(format!(
                "step #{} of alert {} already queued a message",
                m.step_seq, m.report
            )));
        }
        Err(e) => return Err(db(e)),
    }
    let id = tx.last_insert_rowid();
    insert_status(tx, id, 0, OutboxStatus::Queued, &m.queued_by, &m.queued_at.to_string(), None)?;
    Ok(id)
}

fn insert_status(
    tx: &Transaction<'_>,
    id: i64,
    seq: u32,
    status: OutboxStatus,
    user_id: &str,
    at: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO outbox_status (message_id, seq, status, user_id, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .map_err(db)?
    .execute(params![id, seq, status.as_str(), user_id, at, detail])
    .map_err(db)?;
    Ok(())
}

/// Appends changes in order, each at its message's next position.
pub(super) fn append_changes(tx: &Transaction<'_>, changes: &[OutboxChange]) -> Result<(), StoreError> {
    for c in changes {
        let recorded: i64 = tx
            .prepare_cached(
                "SELECT (SELECT count(*) FROM outbox_messages WHERE id = ?1), (SELECT count(*) FROM outbox_status WHERE message_id = ?1)",
            )
            .map_err(db)?
            .query_row([c.message_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db)
            .and_then(|(exists, n)| {
                if exists == 0 { Err(StoreError::NotFound(format!("outbox message #{}", c.message_id))) } else { Ok(n) }
            })?;
        check_next_change(c, recorded)?;
        insert_status(tx, c.message_id, c.seq, c.status, &c.user_id, &c.at.to_string(), c.detail.as_deref())?;
    }
    Ok(())
}

/// Messages with their history, oldest first. The report and ids narrow the
/// query; the status (the last change) is checked on the rows read.
pub(super) fn list(conn: &Connection, filter: &OutboxFilter) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut sql = String::from(
        "SELECT m.id, r.reference, m.step_seq, m.language, m.body, s.seq, s.status, s.user_id, s.at, s.detail,
                m.origin
         FROM outbox_messages m JOIN reports r ON r.id = m.report_id JOIN outbox_status s ON s.message_id = m.id
         WHERE (?1 IS NULL OR r.reference = ?1)",
    );
    let mut values: Vec<Value> =
        vec![filter.report.as_ref().map(|r| Value::Text(r.to_string())).unwrap_or(Value::Null)];
    if let Some(ids) = &filter.ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND m.id IN ({})", vec!["?"; ids.len()].join(", ")));
        values.extend(ids.iter().map(|&id| Value::Integer(id)));
    }
    sql.push_str(" ORDER BY m.id, s.seq");
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(values), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
            ))
        })
        .map_err(db)?;
    let mut out: Vec<OutboxMessage> = Vec::new();
    for row in rows {
        let (id, reference, step_seq, language, body, seq, status, user_id, at, detail, origin) = row.map_err(db)?;
        let what = || damaged(format!("outbox message #{id}"));
        if out.last().is_none_or(|m| m.id != id) {
            out.push(OutboxMessage {
                id,
                report: reference.parse().map_err(|_| what())?,
                step_seq: u32::try_from(step_seq).map_err(|_| what())?,
                language,
                body,
                history: Vec::new(),
                origin,
            });
        }
        let message = out.last_mut().expect("pushed above");
        message.history.push(OutboxChange {
            message_id: id,
            seq: u32::try_from(seq).map_err(|_| what())?,
            status: outbox_status_from(&status)?,
            user_id,
            at: parse_time(&at, "outbox status time")?,
            detail,
        });
    }
    out.retain(|m| filter.matches(m));
    Ok(out)
}
