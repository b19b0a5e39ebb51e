//! The SMS outbox in PostgreSQL: `outbox_messages` (never changed) and their
//! append-only `outbox_status` history (migration 6). A status change locks
//! its message's row, and the (message, seq) key backs the position check:
//! two operators moving one message at once get one success, one conflict.

use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Transaction};
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage, OutboxStatus};
use vitalcore_store::StoreError;
use vitalcore_store::report_codec::{check_next_change, damaged, outbox_status_from, parse_time};

use super::{db, is_unique_violation, lock_report};

/// Stores a message and its first status, `queued`; returns its id.
pub(super) fn queue(tx: &mut Transaction<'_>, m: &OutboxDraft) -> Result<i64, StoreError> {
    let report = lock_report(tx, &m.report)?.ok_or_else(|| StoreError::NotFound(format!("report {}", m.report)))?;
    let inserted = tx.query_one(
        "INSERT INTO outbox_messages (report_id, step_seq, language, body, origin)
         VALUES ($1, $2, $3, $4, vitalcore_sync_origin()) RETURNING id",
        &[&report, &i64::from(m.step_seq), &m.language, &m.body],
    );
    let id: i64 = match inserted {
        Ok(row) => row.get(0),
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict(format!(
                "step #{} of alert {} already queued a message",
                m.step_seq, m.report
            )));
        }
        Err(e) => return Err(db(e)),
    };
    insert_status(tx, id, 0, OutboxStatus::Queued, &m.queued_by, &m.queued_at.to_string(), None)?;
    Ok(id)
}

fn insert_status(
    tx: &mut Transaction<'_>,
    id: i64,
    seq: u32,
    status: OutboxStatus,
    user_id: &str,
    at: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let inserted = tx.execute(
        "INSERT INTO outbox_status (message_id, seq, status, user_id, at, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &i64::from(seq), &status.as_str(), &user_id, &at, &detail],
    );
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "outbox message #{id} changed meanwhile (change #{seq} is already recorded); list it again and retry"
        ))),
        Err(e) => Err(db(e)),
    }
}

/// Appends changes in order, each at its message's next position.
pub(super) fn append_changes(tx: &mut Transaction<'_>, changes: &[OutboxChange]) -> Result<(), StoreError> {
    for c in changes {
        let found = tx
            .query_typed_opt("SELECT id FROM outbox_messages WHERE id = $1 FOR UPDATE", &[(&c.message_id, Type::INT8)])
            .map_err(db)?;
        if found.is_none() {
            return Err(StoreError::NotFound(format!("outbox message #{}", c.message_id)));
        }
        let recorded: i64 = tx
            .query_typed_one("SELECT count(*) FROM outbox_status WHERE message_id = $1", &[(&c.message_id, Type::INT8)])
            .map_err(db)?
            .get(0);
        check_next_change(c, recorded)?;
        insert_status(tx, c.message_id, c.seq, c.status, &c.user_id, &c.at.to_string(), c.detail.as_deref())?;
    }
    Ok(())
}

/// Messages with their history, oldest first. The report and ids narrow the
/// query; the status (the last change) is checked on the rows read.
pub(super) fn list(client: &mut impl GenericClient, filter: &OutboxFilter) -> Result<Vec<OutboxMessage>, StoreError> {
    if filter.ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let reference = filter.report.as_ref().map(|r| r.to_string());
    let ids: Option<Vec<i64>> = filter.ids.clone();
    let params: [(&(dyn ToSql + Sync), Type); 2] = [(&reference, Type::TEXT), (&ids, Type::INT8_ARRAY)];
    let rows = client
        .query_typed(
            "SELECT m.id, r.reference, m.step_seq, m.language, m.body, s.seq, s.status, s.user_id, s.at, s.detail,
                    m.origin
             FROM outbox_messages m JOIN reports r ON r.id = m.report_id JOIN outbox_status s ON s.message_id = m.id
             WHERE ($1::text IS NULL OR r.reference = $1) AND ($2::bigint[] IS NULL OR m.id = ANY($2))
             ORDER BY m.id, s.seq",
            &params,
        )
        .map_err(db)?;
    let mut out = messages(&rows)?;
    out.retain(|m| filter.matches(m));
    Ok(out)
}

/// The messages of the reports among `references`, with their histories, oldest first.
pub(super) fn list_of_reports(
    client: &mut impl GenericClient,
    references: &[&str],
) -> Result<Vec<OutboxMessage>, StoreError> {
    let rows = client
        .query_typed(
            "SELECT m.id, r.reference, m.step_seq, m.language, m.body, s.seq, s.status, s.user_id, s.at, s.detail,
                    m.origin
             FROM outbox_messages m JOIN reports r ON r.id = m.report_id JOIN outbox_status s ON s.message_id = m.id
             WHERE r.reference = ANY($1)
             ORDER BY m.id, s.seq",
            &[(&references, Type::TEXT_ARRAY)],
        )
        .map_err(db)?;
    messages(&rows)
}

/// Rows of message and status columns (ordered by message, then seq) as messages.
fn messages(rows: &[postgres::Row]) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut out: Vec<OutboxMessage> = Vec::new();
    for row in rows {
        let id: i64 = row.get(0);
        let what = || damaged(format!("outbox message #{id}"));
        if out.last().is_none_or(|m| m.id != id) {
            let reference: &str = row.get(1);
            out.push(OutboxMessage {
                id,
                report: reference.parse().map_err(|_| what())?,
                step_seq: u32::try_from(row.get::<_, i64>(2)).map_err(|_| what())?,
                language: row.get(3),
                body: row.get(4),
                history: Vec::new(),
                origin: row.get(10),
            });
        }
        let message = out.last_mut().expect("pushed above");
        message.history.push(OutboxChange {
            message_id: id,
            seq: u32::try_from(row.get::<_, i64>(5)).map_err(|_| what())?,
            status: outbox_status_from(row.get(6))?,
            user_id: row.get(7),
            at: parse_time(row.get(8), "outbox status time")?,
            detail: row.get(9),
        });
    }
    Ok(out)
}
