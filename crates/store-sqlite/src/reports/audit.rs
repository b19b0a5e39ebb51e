//! The audit chain in SQLite: `audit_log` (migration 7). Entries are
//! appended inside the report store's `BEGIN IMMEDIATE` transactions, the
//! same transaction as the fact they record: the write lock (across
//! threads and processes) is held from reading the head to the commit, so
//! entry `n + 1` is always written knowing entry `n`, and the chain cannot fork.

use rusqlite::{Connection, OptionalExtension, params};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_intake::{ContactRead, Reference};
use vitalcore_security::audit::{AuditEntry, AuditEvent, time_text};
use vitalcore_store::StoreError;
use vitalcore_store::report_codec::{audit_entry, chain_start_events, damaged, parse_role, parse_time, step_record};

use super::db;

const COLUMNS: &str = "seq, at, actor, action, subject, detail, prev_hash, hash";

/// Appends `event` after the current head; call it inside a write transaction.
pub(crate) fn append(conn: &Connection, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
    let head: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .map_err(db)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    let head = head.map(|(seq, hash)| (u64::try_from(seq).unwrap_or(0), hash));
    let entry = AuditEntry::after(head.as_ref().map(|(s, h)| (*s, h.as_str())), event.clone());
    let seq = i64::try_from(entry.seq).map_err(|_| StoreError::Backend("the audit chain is full".into()))?;
    conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .map_err(db)?
    .execute(params![
        seq,
        time_text(entry.event.at),
        entry.event.actor,
        entry.event.action.as_str(),
        entry.event.subject,
        entry.event.detail,
        entry.prev_hash,
        entry.hash
    ])
    .map_err(db)?;
    Ok(entry)
}

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<AuditEntry, StoreError>> {
    let at: String = r.get(1)?;
    let action: String = r.get(3)?;
    Ok(audit_entry(r.get(0)?, &at, r.get(2)?, &action, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

pub(crate) fn entries(conn: &Connection, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(params![after, limit], read).map_err(db)?;
    rows.map(|row| row.map_err(db)?).collect()
}

pub(crate) fn head(conn: &Connection) -> Result<Option<AuditEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    conn.prepare_cached(&sql).map_err(db)?.query_row([], read).optional().map_err(db)?.transpose()
}

/// Every contact read, in the order logged.
pub(crate) fn contact_read_log(conn: &Connection) -> Result<Vec<ContactRead>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT report, user_id, role, purpose, at FROM contact_reads ORDER BY id").map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(db)?;
    rows.map(|row| {
        let (report, user_id, role, purpose, at) = row.map_err(db)?;
        Ok(ContactRead {
            report,
            user_id,
            role: parse_role(&role)?,
            purpose,
            at: parse_time(&at, "contact read time")?,
        })
    })
    .collect()
}

/// Every alert step of every alert.
pub(crate) fn step_log(conn: &Connection) -> Result<Vec<StepRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.reference, s.seq, s.detail, s.user_id, s.at FROM alert_steps s JOIN reports r ON r.id = s.report_id
             ORDER BY r.reference, s.seq",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(db)?;
    rows.map(|row| {
        let (reference, seq, detail, user_id, at) = row.map_err(db)?;
        let alert: Reference = reference.parse().map_err(|_| damaged(format!("report reference `{reference}`")))?;
        step_record(&alert, seq, &detail, user_id, &at, "unknown")
    })
    .collect()
}

/// Run by migration 7 in its transaction: on a database that already holds
/// contact reads or alert steps, the chain starts with them (see
/// [`chain_start_events`]); a chain that has entries is left alone.
pub(crate) fn start_chain(conn: &Connection) -> Result<(), StoreError> {
    if head(conn)?.is_some() {
        return Ok(());
    }
    let events = chain_start_events(&contact_read_log(conn)?, &step_log(conn)?, jiff::Timestamp::now());
    for e in &events {
        append(conn, e)?;
    }
    Ok(())
}
