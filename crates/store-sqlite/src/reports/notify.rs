//! The notification outbox, the on-call rota and staff contacts in SQLite
//! (migration 11). Every write is one immediate transaction on the writer
//! connection, so a claim and the attempt it records cannot interleave with
//! another worker, thread or process.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use vitalcore_intake::notify::{
    AttemptOutcome, ChannelKind, Delivery, DeliveryDraft, DeliveryEvent, DeliveryStatus, Notification,
    NotificationDraft, NotifyKind, RotaEntry, StaffContact,
};
use vitalcore_intake::report::Report;
use vitalcore_store::StoreError;
use vitalcore_store::notify::{
    NotifyStore, RotaDraft, outcome_audit, outcome_entry, rota_audit, rota_entry, rota_removed_audit,
};
use vitalcore_store::report_codec::{damaged, parse_time};

use super::{ReportRow, db, is_unique_violation};
use crate::SqliteStore;

/// Queues notifications in `tx`, skipping dedup keys already queued.
pub(super) fn queue(tx: &Connection, drafts: &[NotificationDraft]) -> Result<Vec<i64>, StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO notifications (dedup_key, kind, reference, area_pcode, urgency, category, level, at, queued_at, only_channel)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .map_err(db)?;
    let mut ids = Vec::new();
    for d in drafts {
        let n = stmt
            .execute(params![
                d.dedup_key,
                d.kind.as_str(),
                d.reference,
                d.area_pcode,
                d.urgency.map(|u| u.as_str()),
                d.category,
                d.level,
                d.at.to_string(),
                d.queued_at.to_string(),
                d.only_channel,
            ])
            .map_err(db)?;
        if n == 1 {
            ids.push(tx.last_insert_rowid());
        }
    }
    Ok(ids)
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

const NOTIFICATION_COLUMNS: &str = "n.id, n.dedup_key, n.kind, n.reference, n.area_pcode, n.urgency, n.category, n.level, n.at, n.queued_at, n.only_channel, n.expanded";

fn read_notification(r: &Row<'_>, at: usize) -> rusqlite::Result<Result<Notification, StoreError>> {
    let kind: String = r.get(at + 2)?;
    let urgency: Option<String> = r.get(at + 5)?;
    let when: String = r.get(at + 8)?;
    let queued: String = r.get(at + 9)?;
    let id: i64 = r.get(at)?;
    let dedup_key: String = r.get(at + 1)?;
    let reference: String = r.get(at + 3)?;
    let area_pcode: Option<String> = r.get(at + 4)?;
    let category: Option<String> = r.get(at + 6)?;
    let level: i64 = r.get(at + 7)?;
    let only_channel: Option<String> = r.get(at + 10)?;
    let expanded: i64 = r.get(at + 11)?;
    Ok((|| {
        Ok(Notification {
            id,
            draft: NotificationDraft {
                dedup_key,
                kind: NotifyKind::parse(&kind).ok_or_else(|| damaged(format!("notification #{id} kind `{kind}`")))?,
                reference,
                area_pcode,
                urgency: urgency
                    .map(|u| u.parse().map_err(|_| damaged(format!("notification #{id} urgency `{u}`"))))
                    .transpose()?,
                category,
                level: u8::try_from(level).unwrap_or(u8::MAX),
                at: parse_time(&when, "notification time")?,
                queued_at: parse_time(&queued, "notification queued time")?,
                only_channel,
            },
            expanded: expanded != 0,
        })
    })())
}

const DELIVERY_COLUMNS: &str = "d.id, d.notification_id, d.channel, d.target, d.status, d.attempts, d.next_attempt_ms";

fn read_delivery(r: &Row<'_>) -> rusqlite::Result<Result<Delivery, StoreError>> {
    let id: i64 = r.get(0)?;
    let channel: String = r.get(2)?;
    let status: String = r.get(4)?;
    let attempts: i64 = r.get(5)?;
    let next: i64 = r.get(6)?;
    let notification_id: i64 = r.get(1)?;
    let target: String = r.get(3)?;
    Ok((|| {
        Ok(Delivery {
            id,
            notification_id,
            channel: ChannelKind::parse(&channel)
                .ok_or_else(|| damaged(format!("delivery #{id} channel `{channel}`")))?,
            target,
            status: DeliveryStatus::parse(&status)
                .ok_or_else(|| damaged(format!("delivery #{id} status `{status}`")))?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_attempt_at: Timestamp::from_millisecond(next)
                .map_err(|e| damaged(format!("delivery #{id} next attempt: {e}")))?,
            history: Vec::new(),
        })
    })())
}

fn history(conn: &Connection, id: i64) -> Result<Vec<DeliveryEvent>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, what, at, detail FROM notify_history WHERE delivery_id = ?1 ORDER BY seq")
        .map_err(db)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
        })
        .map_err(db)?;
    rows.map(|row| {
        let (seq, what, at, detail) = row.map_err(db)?;
        Ok(DeliveryEvent { seq: seq as u32, what, at: parse_time(&at, "delivery history time")?, detail })
    })
    .collect()
}

fn add_history(tx: &Connection, id: i64, what: &str, at: Timestamp, detail: Option<&str>) -> Result<(), StoreError> {
    let next: i64 = tx
        .prepare_cached("SELECT count(*) FROM notify_history WHERE delivery_id = ?1")
        .map_err(db)?
        .query_row([id], |r| r.get(0))
        .map_err(db)?;
    tx.prepare_cached("INSERT INTO notify_history (delivery_id, seq, what, at, detail) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(db)?
        .execute(params![id, next, what, at.to_string(), detail])
        .map_err(db)?;
    Ok(())
}

/// Deliveries selected by `where_sql` (on `d`, with `?1` and `?2`) with
/// their notification and history.
fn select_deliveries(
    conn: &Connection,
    tail: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<(Delivery, Notification)>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS}, {NOTIFICATION_COLUMNS} FROM notify_deliveries d
         JOIN notifications n ON n.id = d.notification_id {tail}"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(args, |r| {
            let d = read_delivery(r)?;
            let n = read_notification(r, 7)?;
            Ok(d.and_then(|d| n.map(|n| (d, n))))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut d, n) = row.map_err(db)??;
        d.history = history(conn, d.id)?;
        out.push((d, n));
    }
    Ok(out)
}

fn user_exists(tx: &Connection, user_id: &str) -> Result<bool, StoreError> {
    tx.prepare_cached("SELECT 1 FROM users WHERE id = ?1")
        .map_err(db)?
        .query_row([user_id], |_| Ok(()))
        .optional()
        .map(|o| o.is_some())
        .map_err(db)
}

/// A rota row as both reads select it (id, area, role, user, from, to,
/// fallback, set by, set at).
type RotaRow = (i64, String, String, String, String, Option<String>, i64, String, String);

fn read_rota_row(r: &Row<'_>) -> rusqlite::Result<RotaRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

fn rota_from(row: RotaRow) -> Result<RotaEntry, StoreError> {
    let (id, area, role, user, from, to, fallback, set_by, set_at) = row;
    rota_entry(id, area, &role, user, &from, to.as_deref(), fallback, set_by, &set_at)
}

fn read_contact(r: &Row<'_>) -> rusqlite::Result<StaffContact> {
    Ok(StaffContact { user_id: r.get(0)?, phone: r.get(1)?, email: r.get(2)? })
}

fn expand(tx: &Connection, id: i64, deliveries: &[DeliveryDraft], at: Timestamp) -> Result<(), StoreError> {
    let changed = tx
        .prepare_cached("UPDATE notifications SET expanded = 1 WHERE id = ?1")
        .map_err(db)?
        .execute([id])
        .map_err(db)?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("notification #{id}")));
    }
    for d in deliveries {
        let n = tx
            .prepare_cached(
                "INSERT INTO notify_deliveries (notification_id, channel, target, status, attempts, next_attempt_ms)
                 VALUES (?1, ?2, ?3, 'queued', 0, ?4) ON CONFLICT (notification_id, channel, target) DO NOTHING",
            )
            .map_err(db)?
            .execute(params![id, d.channel.as_str(), d.target, ms(at)])
            .map_err(db)?;
        if n == 1 {
            add_history(tx, tx.last_insert_rowid(), "queued", at, None)?;
        }
    }
    Ok(())
}

fn finish(tx: &Connection, id: i64, outcome: &AttemptOutcome, at: Timestamp) -> Result<(), StoreError> {
    let (what, status, detail) = outcome_entry(outcome);
    let next = match outcome {
        AttemptOutcome::Retry { next_at, .. } => Some(ms(*next_at)),
        _ => None,
    };
    let changed = tx
        .prepare_cached(
            "UPDATE notify_deliveries SET status = ?2, lease_ms = NULL,
             next_attempt_ms = coalesce(?3, next_attempt_ms) WHERE id = ?1",
        )
        .map_err(db)?
        .execute(params![id, status.as_str(), next])
        .map_err(db)?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("delivery #{id}")));
    }
    add_history(tx, id, what, at, Some(detail))?;
    if let Some(event) = outcome_audit(id, outcome, at) {
        super::audit::append(tx, &event)?;
    }
    Ok(())
}

impl NotifyStore for SqliteStore {
    fn insert_report_notifying(&self, report: &Report, notifications: &[NotificationDraft]) -> Result<(), StoreError> {
        let row = ReportRow::of(report)?;
        self.group.submit(report, row, notifications, |batch| self.commit_group(batch))
    }

    fn queue_notifications(&self, notifications: &[NotificationDraft]) -> Result<Vec<i64>, StoreError> {
        self.report_tx(|tx| queue(tx, notifications))
    }

    fn pending_notifications(&self, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.report_read(|conn| {
            let sql = format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications n WHERE n.expanded = 0 ORDER BY n.id LIMIT ?1"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
            let rows = stmt.query_map([limit as i64], |r| read_notification(r, 0)).map_err(db)?;
            rows.map(|r| r.map_err(db)?).collect()
        })
    }

    fn expand_notifications(&self, batch: &[(i64, Vec<DeliveryDraft>)], at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| batch.iter().try_for_each(|(id, deliveries)| expand(tx, *id, deliveries, at)))
    }

    fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Delivery, Notification)>, StoreError> {
        self.report_tx(|tx| {
            let ids: Vec<i64> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id FROM notify_deliveries
                         WHERE (status = 'queued' AND next_attempt_ms <= ?1)
                            OR (status = 'sending' AND coalesce(lease_ms, 0) <= ?1)
                         ORDER BY next_attempt_ms, id LIMIT ?2",
                    )
                    .map_err(db)?;
                let rows = stmt.query_map(params![ms(now), limit as i64], |r| r.get(0)).map_err(db)?;
                rows.collect::<Result<_, _>>().map_err(db)?
            };
            let mut out = Vec::new();
            for id in ids {
                tx.prepare_cached(
                    "UPDATE notify_deliveries SET status = 'sending', attempts = attempts + 1, lease_ms = ?2 WHERE id = ?1",
                )
                .map_err(db)?
                .execute(params![id, ms(lease_until)])
                .map_err(db)?;
                let attempts: i64 = tx
                    .prepare_cached("SELECT attempts FROM notify_deliveries WHERE id = ?1")
                    .map_err(db)?
                    .query_row([id], |r| r.get(0))
                    .map_err(db)?;
                add_history(tx, id, "attempt", now, Some(&attempts.to_string()))?;
                out.extend(select_deliveries(tx, "WHERE d.id = ?1", [id])?);
            }
            Ok(out)
        })
    }

    fn finish_deliveries(&self, batch: &[(i64, AttemptOutcome)], at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| batch.iter().try_for_each(|(id, outcome)| finish(tx, *id, outcome, at)))
    }

    fn deliveries(&self, limit: usize) -> Result<Vec<(Delivery, Notification)>, StoreError> {
        self.report_read(|conn| select_deliveries(conn, "ORDER BY d.id DESC LIMIT ?1", [limit as i64]))
    }

    fn add_rota_entry(&self, e: &RotaDraft) -> Result<i64, StoreError> {
        self.report_tx(|tx| {
            if !user_exists(tx, &e.user_id)? {
                return Err(StoreError::NotFound(format!("user {}", e.user_id)));
            }
            tx.prepare_cached(
                "INSERT INTO oncall_rota (area_pcode, role, user_id, from_at, to_at, fallback, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(db)?
            .execute(params![
                e.area_pcode,
                e.role.as_str(),
                e.user_id,
                e.from.to_string(),
                e.to.map(|t| t.to_string()),
                i64::from(e.fallback),
                e.set_by,
                e.set_at.to_string()
            ])
            .map_err(db)?;
            let id = tx.last_insert_rowid();
            super::audit::append(tx, &rota_audit(e))?;
            Ok(id)
        })
    }

    fn rota(&self) -> Result<Vec<RotaEntry>, StoreError> {
        let mut rota = self.report_read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, area_pcode, role, user_id, from_at, to_at, fallback, set_by, set_at FROM oncall_rota",
                )
                .map_err(db)?;
            let rows = stmt.query_map([], read_rota_row).map_err(db)?;
            rows.map(|row| rota_from(row.map_err(db)?)).collect::<Result<Vec<_>, StoreError>>()
        })?;
        rota.sort_by(|a, b| (&a.area_pcode, a.role, a.from, a.id).cmp(&(&b.area_pcode, b.role, b.from, b.id)));
        Ok(rota)
    }

    fn remove_rota_entry(&self, id: i64, by: &str, at: Timestamp) -> Result<RotaEntry, StoreError> {
        self.report_tx(|tx| {
            let removed = tx
                .prepare_cached(
                    "DELETE FROM oncall_rota WHERE id = ?1
                     RETURNING id, area_pcode, role, user_id, from_at, to_at, fallback, set_by, set_at",
                )
                .map_err(db)?
                .query_row([id], read_rota_row)
                .optional()
                .map_err(db)?
                .ok_or_else(|| StoreError::NotFound(format!("rota entry {id}")))?;
            let entry = rota_from(removed)?;
            super::audit::append(tx, &rota_removed_audit(&entry, by, at))?;
            Ok(entry)
        })
    }

    fn set_staff_contact(&self, c: &StaffContact) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            if !user_exists(tx, &c.user_id)? {
                return Err(StoreError::NotFound(format!("user {}", c.user_id)));
            }
            let written = tx
                .prepare_cached(
                    "INSERT INTO staff_contacts (user_id, phone, email) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, email = excluded.email",
                )
                .map_err(db)?
                .execute(params![c.user_id, c.phone, c.email]);
            match written {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                    "the phone {} is already registered to another user",
                    c.phone.as_deref().unwrap_or("")
                ))),
                Err(e) => Err(db(e)),
            }
        })
    }

    fn staff_contact(&self, user_id: &str) -> Result<Option<StaffContact>, StoreError> {
        self.report_read(|conn| {
            conn.prepare_cached("SELECT user_id, phone, email FROM staff_contacts WHERE user_id = ?1")
                .map_err(db)?
                .query_row([user_id], read_contact)
                .optional()
                .map_err(db)
        })
    }

    fn staff_by_phone(&self, phone: &str) -> Result<Option<StaffContact>, StoreError> {
        self.report_read(|conn| {
            conn.prepare_cached("SELECT user_id, phone, email FROM staff_contacts WHERE phone = ?1")
                .map_err(db)?
                .query_row([phone], read_contact)
                .optional()
                .map_err(db)
        })
    }
}
