//! What flows up from a field office beyond reports and steps, in SQLite
//! (migration 15): feedback messages with their delivery status, tag
//! corrections and early-warning status changes, read for a feed and
//! written when a batch is applied.

use rusqlite::{Connection, OptionalExtension, params};
use vitalcore_framework::Month;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage};
use vitalcore_intake::report::Reference;
use vitalcore_store::StoreError;
use vitalcore_store::columns::{join_tags, split_tags};
use vitalcore_store::forecasts::{WarningKind, WarningStatus};
use vitalcore_store::report_codec::{damaged, outbox_status_from, parse_time, step_record};
use vitalcore_store::reports::TagCorrection;
use vitalcore_store::sync::{CorrectionOf, OutboxOf, RecordKind, SyncRecord, WarningChange, WarningChangeOf};

use super::{db, report_id};

fn reference(text: &str) -> Result<Reference, StoreError> {
    text.parse().map_err(|_| damaged(format!("report reference `{text}`")))
}

/// The record a change-log entry of a flow-up kind names (`None`: gone).
pub(super) fn load(
    conn: &Connection,
    kind: RecordKind,
    row_id: Option<i64>,
    step_seq: Option<i64>,
    origin: String,
) -> Result<Option<SyncRecord>, StoreError> {
    let Some(id) = row_id else { return Err(damaged(format!("change log entry of a {}", kind.as_str()))) };
    match kind {
        RecordKind::Outbox => {
            let Some(seq) = step_seq else { return Err(damaged("change log entry of an outbox change")) };
            outbox_record(conn, id, seq, origin)
        }
        RecordKind::Correction => Ok(correction(conn, "c.id = ?1", id)?
            .pop()
            .map(|correction| SyncRecord::Correction(Box::new(CorrectionOf { origin, correction })))),
        RecordKind::WarningChange => warning_change(conn, id, origin),
        other => Err(damaged(format!("change log kind `{}` read as a flow up", other.as_str()))),
    }
}

fn outbox_record(conn: &Connection, id: i64, seq: i64, origin: String) -> Result<Option<SyncRecord>, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT r.reference, m.step_seq, m.language, m.body, a.detail, a.user_id, a.at,
                    s.status, s.user_id, s.at, s.detail, a.channel
             FROM outbox_messages m JOIN reports r ON r.id = m.report_id
             JOIN alert_steps a ON a.report_id = m.report_id AND a.seq = m.step_seq
             JOIN outbox_status s ON s.message_id = m.id AND s.seq = ?2
             WHERE m.id = ?1",
        )
        .map_err(db)?
        .query_row(params![id, seq], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                [r.get::<_, String>(4)?, r.get::<_, String>(5)?, r.get::<_, String>(6)?],
                [r.get::<_, String>(7)?, r.get::<_, String>(8)?, r.get::<_, String>(9)?],
                r.get::<_, Option<String>>(10)?,
                r.get::<_, String>(11)?,
            ))
        })
        .optional()
        .map_err(db)?;
    let Some((alert, step_seq, language, body, [detail, step_user, step_at], [status, user_id, at], note, channel)) =
        found
    else {
        return Ok(None);
    };
    let alert = reference(&alert)?;
    let step = step_record(&alert, step_seq, &detail, step_user, &step_at, &channel)?;
    let change = OutboxChange {
        message_id: id,
        seq: u32::try_from(seq).map_err(|_| damaged(format!("outbox message #{id}")))?,
        status: outbox_status_from(&status)?,
        user_id,
        at: parse_time(&at, "outbox status time")?,
        detail: note,
    };
    Ok(Some(SyncRecord::Outbox(Box::new(OutboxOf { origin, step, language, body, change }))))
}

fn correction(conn: &Connection, filter: &str, value: i64) -> Result<Vec<TagCorrection>, StoreError> {
    let sql = format!(
        "SELECT r.reference, c.user_id, c.at, c.previous_dimensions, c.previous_themes, c.dimensions, c.themes
         FROM report_tag_corrections c JOIN reports r ON r.id = c.report_id WHERE {filter} ORDER BY c.id"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map([value], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                [r.get::<_, String>(3)?, r.get::<_, String>(4)?, r.get::<_, String>(5)?, r.get::<_, String>(6)?],
            ))
        })
        .map_err(db)?;
    rows.map(|row| {
        let (report, user_id, at, [pd, pt, d, t]) = row.map_err(db)?;
        Ok(TagCorrection {
            report: reference(&report)?,
            user_id,
            at: parse_time(&at, "correction time")?,
            previous_dimensions: split_tags(&pd),
            previous_themes: split_tags(&pt),
            dimensions: split_tags(&d),
            themes: split_tags(&t),
        })
    })
    .collect()
}

fn warning_change(conn: &Connection, id: i64, origin: String) -> Result<Option<SyncRecord>, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT w.unit, w.month, w.kind, c.status, c.by_user, c.at, c.note
             FROM early_warning_changes c JOIN early_warnings w ON w.id = c.warning_id WHERE c.id = ?1",
        )
        .map_err(db)?
        .query_row([id], |r| {
            Ok((
                [r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?],
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()
        .map_err(db)?;
    let Some(([unit, month, kind, status], by_user, at, note)) = found else { return Ok(None) };
    Ok(Some(SyncRecord::WarningChange(Box::new(WarningChangeOf {
        origin,
        unit,
        month: month.parse().map_err(|_| damaged(format!("warning month `{month}`")))?,
        warning: WarningKind::parse(&kind).ok_or_else(|| damaged(format!("warning kind `{kind}`")))?,
        change: change_of(&status, by_user, at, note)?,
    }))))
}

fn change_of(status: &str, by_user: String, at: String, note: Option<String>) -> Result<WarningChange, StoreError> {
    let status = WarningStatus::parse(status).ok_or_else(|| damaged(format!("warning status `{status}`")))?;
    Ok(WarningChange { status, by_user, at, note })
}

// --- applying ---

pub(super) fn outbox_of(conn: &Connection, report: &Reference) -> Result<Vec<OutboxMessage>, StoreError> {
    super::outbox::list(conn, &OutboxFilter { report: Some(report.clone()), ..OutboxFilter::default() })
}

pub(super) fn queue_message(tx: &rusqlite::Transaction<'_>, draft: &OutboxDraft) -> Result<(), StoreError> {
    super::outbox::queue(tx, draft).map(|_| ())
}

pub(super) fn append_outbox_change(tx: &rusqlite::Transaction<'_>, change: &OutboxChange) -> Result<(), StoreError> {
    super::outbox::append_changes(tx, std::slice::from_ref(change))
}

pub(super) fn corrections_of(conn: &Connection, report: &Reference) -> Result<Vec<TagCorrection>, StoreError> {
    match report_id(conn, report)? {
        None => Ok(Vec::new()),
        Some(id) => correction(conn, "c.report_id = ?1", id),
    }
}

pub(super) fn add_correction(conn: &Connection, c: &TagCorrection, set_tags: bool) -> Result<(), StoreError> {
    let id = report_id(conn, &c.report)?.ok_or_else(|| StoreError::NotFound(format!("report {}", c.report)))?;
    conn.prepare_cached(
        "INSERT INTO report_tag_corrections
             (report_id, user_id, at, previous_dimensions, previous_themes, dimensions, themes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(db)?
    .execute(params![
        id,
        c.user_id,
        c.at.to_string(),
        join_tags(&c.previous_dimensions),
        join_tags(&c.previous_themes),
        join_tags(&c.dimensions),
        join_tags(&c.themes)
    ])
    .map_err(db)?;
    if set_tags {
        conn.prepare_cached("UPDATE reports SET dimensions = ?1, themes = ?2, rule = ?3 WHERE id = ?4")
            .map_err(db)?
            .execute(params![join_tags(&c.dimensions), join_tags(&c.themes), c.rule(), id])
            .map_err(db)?;
    }
    Ok(())
}

fn warning_id(conn: &Connection, unit: &str, month: Month, kind: WarningKind) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT id FROM early_warnings WHERE unit = ?1 AND month = ?2 AND kind = ?3")
        .map_err(db)?
        .query_row(params![unit, month.to_string(), kind.as_str()], |r| r.get(0))
        .optional()
        .map_err(db)
}

pub(super) fn warning_changes(
    conn: &Connection,
    unit: &str,
    month: Month,
    kind: WarningKind,
) -> Result<Option<Vec<WarningChange>>, StoreError> {
    let Some(id) = warning_id(conn, unit, month, kind)? else { return Ok(None) };
    changes_of_warning(conn, id).map(Some)
}

/// A warning's status changes in the order they were recorded here.
pub(super) fn changes_of_warning(conn: &Connection, id: i64) -> Result<Vec<WarningChange>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT status, by_user, at, note FROM early_warning_changes WHERE warning_id = ?1 ORDER BY id")
        .map_err(db)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
        })
        .map_err(db)?;
    rows.map(|row| {
        let (status, by_user, at, note) = row.map_err(db)?;
        change_of(&status, by_user, at, note)
    })
    .collect()
}

pub(super) fn add_warning_change(conn: &Connection, w: &WarningChangeOf, set_status: bool) -> Result<(), StoreError> {
    let id = warning_id(conn, &w.unit, w.month, w.warning)?
        .ok_or_else(|| StoreError::NotFound(format!("early warning {} {} {}", w.unit, w.month, w.warning.as_str())))?;
    let c = &w.change;
    conn.prepare_cached(
        "INSERT INTO early_warning_changes (warning_id, status, by_user, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(db)?
    .execute(params![id, c.status.as_str(), c.by_user, c.at, c.note])
    .map_err(db)?;
    if set_status {
        conn.prepare_cached("UPDATE early_warnings SET status = ?2, status_by = ?3, status_at = ?4 WHERE id = ?1")
            .map_err(db)?
            .execute(params![id, c.status.as_str(), c.by_user, c.at])
            .map_err(db)?;
    }
    Ok(())
}
