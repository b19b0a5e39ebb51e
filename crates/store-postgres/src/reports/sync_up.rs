//! What flows up from a field office beyond reports and steps, in
//! PostgreSQL (migration 15): feedback messages with their delivery status,
//! tag corrections and early-warning status changes, read for a feed and
//! written when a batch is applied. These are few next to reports, so each
//! is read with its own query.

use postgres::{GenericClient, Transaction};
use vitalcore_framework::Month;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage};
use vitalcore_intake::report::Reference;
use vitalcore_store::StoreError;
use vitalcore_store::columns::{join_tags, split_tags};
use vitalcore_store::forecasts::{WarningKind, WarningStatus};
use vitalcore_store::report_codec::{damaged, outbox_status_from, parse_time, step_record};
use vitalcore_store::reports::TagCorrection;
use vitalcore_store::sync::{CorrectionOf, OutboxOf, RecordKind, SyncRecord, WarningChange, WarningChangeOf};

use super::{db, lock_report};

fn reference(text: &str) -> Result<Reference, StoreError> {
    text.parse().map_err(|_| damaged(format!("report reference `{text}`")))
}

/// The record a change-log entry of a flow-up kind names (`None`: gone).
pub(super) fn load(
    client: &mut impl GenericClient,
    kind: RecordKind,
    row_id: Option<i64>,
    step_seq: Option<i64>,
    origin: String,
) -> Result<Option<SyncRecord>, StoreError> {
    let Some(id) = row_id else { return Err(damaged(format!("change log entry of a {}", kind.as_str()))) };
    match kind {
        RecordKind::Outbox => {
            let Some(seq) = step_seq else { return Err(damaged("change log entry of an outbox change")) };
            outbox_record(client, id, seq, origin)
        }
        RecordKind::Correction => Ok(corrections(client, "c.id = $1", &id)?
            .pop()
            .map(|correction| SyncRecord::Correction(Box::new(CorrectionOf { origin, correction })))),
        RecordKind::WarningChange => warning_change(client, id, origin),
        other => Err(damaged(format!("change log kind `{}` read as a flow up", other.as_str()))),
    }
}

fn outbox_record(
    client: &mut impl GenericClient,
    id: i64,
    seq: i64,
    origin: String,
) -> Result<Option<SyncRecord>, StoreError> {
    let Some(r) = client
        .query_opt(
            "SELECT r.reference, m.step_seq, m.language, m.body, a.detail, a.user_id, a.at,
                    s.status, s.user_id, s.at, s.detail, a.channel
             FROM outbox_messages m JOIN reports r ON r.id = m.report_id
             JOIN alert_steps a ON a.report_id = m.report_id AND a.seq = m.step_seq
             JOIN outbox_status s ON s.message_id = m.id AND s.seq = $2
             WHERE m.id = $1",
            &[&id, &seq],
        )
        .map_err(db)?
    else {
        return Ok(None);
    };
    let alert = reference(r.get(0))?;
    let step = step_record(&alert, r.get(1), r.get(4), r.get(5), r.get(6), r.get(11))?;
    let change = OutboxChange {
        message_id: id,
        seq: u32::try_from(seq).map_err(|_| damaged(format!("outbox message #{id}")))?,
        status: outbox_status_from(r.get(7))?,
        user_id: r.get(8),
        at: parse_time(r.get(9), "outbox status time")?,
        detail: r.get(10),
    };
    Ok(Some(SyncRecord::Outbox(Box::new(OutboxOf { origin, step, language: r.get(2), body: r.get(3), change }))))
}

fn corrections(
    client: &mut impl GenericClient,
    filter: &str,
    value: &(dyn postgres::types::ToSql + Sync),
) -> Result<Vec<TagCorrection>, StoreError> {
    let sql = format!(
        "SELECT r.reference, c.user_id, c.at, c.previous_dimensions, c.previous_themes, c.dimensions, c.themes
         FROM report_tag_corrections c JOIN reports r ON r.id = c.report_id WHERE {filter} ORDER BY c.id"
    );
    client
        .query(&sql, &[value])
        .map_err(db)?
        .iter()
        .map(|r| {
            Ok(TagCorrection {
                report: reference(r.get(0))?,
                user_id: r.get(1),
                at: parse_time(r.get(2), "correction time")?,
                previous_dimensions: split_tags(r.get(3)),
                previous_themes: split_tags(r.get(4)),
                dimensions: split_tags(r.get(5)),
                themes: split_tags(r.get(6)),
            })
        })
        .collect()
}

fn warning_change(client: &mut impl GenericClient, id: i64, origin: String) -> Result<Option<SyncRecord>, StoreError> {
    let Some(r) = client
        .query_opt(
            "SELECT w.unit, w.month, w.kind, c.status, c.by_user, c.at, c.note
             FROM early_warning_changes c JOIN early_warnings w ON w.id = c.warning_id WHERE c.id = $1",
            &[&id],
        )
        .map_err(db)?
    else {
        return Ok(None);
    };
    let month: String = r.get(1);
    let kind: String = r.get(2);
    Ok(Some(SyncRecord::WarningChange(Box::new(WarningChangeOf {
        origin,
        unit: r.get(0),
        month: month.parse().map_err(|_| damaged(format!("warning month `{month}`")))?,
        warning: WarningKind::parse(&kind).ok_or_else(|| damaged(format!("warning kind `{kind}`")))?,
        change: change_of(r.get(3), r.get(4), r.get(5), r.get(6))?,
    }))))
}

fn change_of(status: &str, by_user: String, at: String, note: Option<String>) -> Result<WarningChange, StoreError> {
    let status = WarningStatus::parse(status).ok_or_else(|| damaged(format!("warning status `{status}`")))?;
    Ok(WarningChange { status, by_user, at, note })
}

// --- applying ---

pub(super) fn outbox_of(tx: &mut Transaction<'_>, report: &Reference) -> Result<Vec<OutboxMessage>, StoreError> {
    super::outbox::list(tx, &OutboxFilter { report: Some(report.clone()), ..OutboxFilter::default() })
}

pub(super) fn outbox_of_many(
    tx: &mut Transaction<'_>,
    reports: &[Reference],
) -> Result<Vec<OutboxMessage>, StoreError> {
    let references: Vec<&str> = reports.iter().map(Reference::as_str).collect();
    super::outbox::list_of_reports(tx, &references)
}

pub(super) fn queue_message(tx: &mut Transaction<'_>, draft: &OutboxDraft) -> Result<(), StoreError> {
    super::outbox::queue(tx, draft).map(|_| ())
}

pub(super) fn append_outbox_change(tx: &mut Transaction<'_>, change: &OutboxChange) -> Result<(), StoreError> {
    super::outbox::append_changes(tx, std::slice::from_ref(change))
}

pub(super) fn corrections_of(tx: &mut Transaction<'_>, report: &Reference) -> Result<Vec<TagCorrection>, StoreError> {
    match lock_report(tx, report)? {
        None => Ok(Vec::new()),
        Some(id) => corrections(tx, "c.report_id = $1", &id),
    }
}

/// The corrections of `reports`, their rows locked first (in id order) as
/// `corrections_of` locks one: two queries for the whole run.
pub(super) fn corrections_of_many(
    tx: &mut Transaction<'_>,
    reports: &[Reference],
) -> Result<Vec<TagCorrection>, StoreError> {
    let references: Vec<&str> = reports.iter().map(Reference::as_str).collect();
    let ids: Vec<i64> = tx
        .query("SELECT id FROM reports WHERE reference = ANY($1) ORDER BY id FOR UPDATE", &[&references])
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    corrections(tx, "c.report_id = ANY($1)", &ids)
}

pub(super) fn add_correction(tx: &mut Transaction<'_>, c: &TagCorrection, set_tags: bool) -> Result<(), StoreError> {
    let id = lock_report(tx, &c.report)?.ok_or_else(|| StoreError::NotFound(format!("report {}", c.report)))?;
    tx.execute(
        "INSERT INTO report_tag_corrections
             (report_id, user_id, at, previous_dimensions, previous_themes, dimensions, themes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &id,
            &c.user_id,
            &c.at.to_string(),
            &join_tags(&c.previous_dimensions),
            &join_tags(&c.previous_themes),
            &join_tags(&c.dimensions),
            &join_tags(&c.themes),
        ],
    )
    .map_err(db)?;
    if set_tags {
        tx.execute(
            "UPDATE reports SET dimensions = $1, themes = $2, rule = $3 WHERE id = $4",
            &[&join_tags(&c.dimensions), &join_tags(&c.themes), &c.rule(), &id],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn warning_id(
    tx: &mut Transaction<'_>,
    unit: &str,
    month: Month,
    kind: WarningKind,
) -> Result<Option<i64>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT id FROM early_warnings WHERE unit = $1 AND month = $2 AND kind = $3 FOR UPDATE",
            &[&unit, &month.to_string(), &kind.as_str()],
        )
        .map_err(db)?;
    Ok(row.map(|r| r.get(0)))
}

pub(super) fn warning_changes(
    tx: &mut Transaction<'_>,
    unit: &str,
    month: Month,
    kind: WarningKind,
) -> Result<Option<Vec<WarningChange>>, StoreError> {
    let Some(id) = warning_id(tx, unit, month, kind)? else { return Ok(None) };
    changes_of_warning(tx, id).map(Some)
}

/// A warning's status changes in the order they were recorded here.
pub(super) fn changes_of_warning(client: &mut impl GenericClient, id: i64) -> Result<Vec<WarningChange>, StoreError> {
    client
        .query("SELECT status, by_user, at, note FROM early_warning_changes WHERE warning_id = $1 ORDER BY id", &[&id])
        .map_err(db)?
        .iter()
        .map(|r| change_of(r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

pub(super) fn add_warning_change(
    tx: &mut Transaction<'_>,
    w: &WarningChangeOf,
    set_status: bool,
) -> Result<(), StoreError> {
    let id = warning_id(tx, &w.unit, w.month, w.warning)?
        .ok_or_else(|| StoreError::NotFound(format!("early warning {} {} {}", w.unit, w.month, w.warning.as_str())))?;
    let c = &w.change;
    tx.execute(
        "INSERT INTO early_warning_changes (warning_id, status, by_user, at, note) VALUES ($1, $2, $3, $4, $5)",
        &[&id, &c.status.as_str(), &c.by_user, &c.at, &c.note],
    )
    .map_err(db)?;
    if set_status {
        tx.execute(
            "UPDATE early_warnings SET status = $2, status_by = $3, status_at = $4 WHERE id = $1",
            &[&id, &c.status.as_str(), &c.by_user, &c.at],
        )
        .map_err(db)?;
    }
    Ok(())
}
