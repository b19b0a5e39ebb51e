//! The audit chain in PostgreSQL: `audit_log` (migration 7). Entries are
//! appended inside the transaction of the fact they record, after taking a
//! transaction-scoped advisory lock for this schema's chain: two writers
//! (threads, processes, machines) take turns from reading the head to
//! their commit, so entry `n + 1` is always written knowing entry `n`.
//! Every path takes this lock last (after any report row lock), so the
//! order of locks is the same everywhere and cannot deadlock.

use postgres::GenericClient;
use vitalcore_intake::workflow::StepRecord;
use vitalcore_intake::{ContactRead, Reference};
use vitalcore_security::audit::{AuditEntry, AuditEvent, time_text};
use vitalcore_store::StoreError;
use vitalcore_store::report_codec::{audit_entry, chain_start_events, damaged, parse_role, parse_time, step_record};

use super::db;

const COLUMNS: &str = "seq, at, actor, action, subject, detail, prev_hash, hash";

/// Serialises appends to this schema's chain until the transaction ends.
const LOCK_CHAIN: &str = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':audit'))";

/// Appends `event` after the current head; call it inside a transaction.
pub(crate) fn append(tx: &mut impl GenericClient, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
    tx.batch_execute(LOCK_CHAIN).map_err(db)?;
    let head = tx.query_typed_opt("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &[]).map_err(db)?;
    let head: Option<(u64, String)> = head.map(|r| (u64::try_from(r.get::<_, i64>(0)).unwrap_or(0), r.get(1)));
    let entry = AuditEntry::after(head.as_ref().map(|(s, h)| (*s, h.as_str())), event.clone());
    let seq = i64::try_from(entry.seq).map_err(|_| StoreError::Backend("the audit chain is full".into()))?;
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &seq,
            &time_text(entry.event.at),
            &entry.event.actor,
            &entry.event.action.as_str(),
            &entry.event.subject,
            &entry.event.detail,
            &entry.prev_hash,
            &entry.hash,
        ],
    )
    .map_err(db)?;
    Ok(entry)
}

fn read(r: &postgres::Row) -> Result<AuditEntry, StoreError> {
    audit_entry(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7))
}

pub(crate) fn entries(
    client: &mut impl GenericClient,
    after_seq: u64,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    client.query(&sql, &[&after, &limit]).map_err(db)?.iter().map(read).collect()
}

pub(crate) fn head(client: &mut impl GenericClient) -> Result<Option<AuditEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    client.query_opt(&sql, &[]).map_err(db)?.as_ref().map(read).transpose()
}

/// Every contact read, in the order logged.
pub(crate) fn contact_read_log(client: &mut impl GenericClient) -> Result<Vec<ContactRead>, StoreError> {
    let rows =
        client.query("SELECT report, user_id, role, purpose, at FROM contact_reads ORDER BY id", &[]).map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(ContactRead {
                report: r.get(0),
                user_id: r.get(1),
                role: parse_role(r.get(2))?,
                purpose: r.get(3),
                at: parse_time(r.get(4), "contact read time")?,
            })
        })
        .collect()
}

/// Every alert step of every alert.
pub(crate) fn step_log(client: &mut impl GenericClient) -> Result<Vec<StepRecord>, StoreError> {
    let rows = client
        .query(
            "SELECT r.reference, s.seq, s.detail, s.user_id, s.at FROM alert_steps s JOIN reports r ON r.id = s.report_id
             ORDER BY r.reference, s.seq",
            &[],
        )
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            let reference: &str = r.get(0);
            let alert: Reference = reference.parse().map_err(|_| damaged(format!("report reference `{reference}`")))?;
            step_record(&alert, r.get(1), r.get(2), r.get(3), r.get(4), "unknown")
        })
        .collect()
}

/// Run by migration 7 in its transaction: on a schema that already holds
/// contact reads or alert steps, the chain starts with them (see
/// [`chain_start_events`]); a chain that has entries is left alone.
pub(crate) fn start_chain(tx: &mut impl GenericClient) -> Result<(), StoreError> {
    tx.batch_execute(LOCK_CHAIN).map_err(db)?;
    if head(tx)?.is_some() {
        return Ok(());
    }
    let events = chain_start_events(&contact_read_log(tx)?, &step_log(tx)?, jiff::Timestamp::now());
    for e in &events {
        append(tx, e)?;
    }
    Ok(())
}
