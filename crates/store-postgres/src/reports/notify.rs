//! The notification outbox, the on-call rota and staff contacts in
//! PostgreSQL (migration 11; the same tables and encodings as SQLite).
//! Several servers may share one database: a claim takes due rows with
//! `FOR UPDATE SKIP LOCKED`, so each delivery goes to one worker.

use jiff::Timestamp;
use postgres::{GenericClient, Row, Transaction};
use vitalcore_intake::notify::{
    AttemptOutcome, ChannelKind, Delivery, DeliveryDraft, DeliveryEvent, DeliveryStatus, Notification,
    NotificationDraft, NotifyKind, RotaEntry, StaffContact,
};
use vitalcore_intake::report::Report;
use vitalcore_store::StoreError;
use vitalcore_store::notify::{
    NotifyStore, RotaDraft, outcome_audit, outcome_entry, rota_audit, rota_entry, rota_removed_audit,
};
use vitalcore_store::report_codec::{damaged, parse_time, received_ns};

use super::{db, insert_report, is_unique_violation};
use crate::PostgresStore;

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// Queues notifications in `tx`, skipping dedup keys already queued.
pub(super) fn queue(tx: &mut Transaction<'_>, drafts: &[NotificationDraft]) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::new();
    for d in drafts {
        let row = tx
            .query_opt(
                "INSERT INTO notifications (dedup_key, kind, reference, area_pcode, urgency, category, level, at, queued_at, only_channel)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                &[
                    &d.dedup_key,
                    &d.kind.as_str(),
                    &d.reference,
                    &d.area_pcode,
                    &d.urgency.map(|u| u.as_str()),
                    &d.category,
                    &i64::from(d.level),
                    &d.at.to_string(),
                    &d.queued_at.to_string(),
                    &d.only_channel,
                ],
            )
            .map_err(db)?;
        if let Some(row) = row {
            ids.push(row.get(0));
        }
    }
    Ok(ids)
}

const NOTIFICATION_COLUMNS: &str = "n.id, n.dedup_key, n.kind, n.reference, n.area_pcode, n.urgency, n.category, n.level, n.at, n.queued_at, n.only_channel, n.expanded";

fn read_notification(r: &Row, at: usize) -> Result<Notification, StoreError> {
    let id: i64 = r.get(at);
    let kind: String = r.get(at + 2);
    let urgency: Option<String> = r.get(at + 5);
    let level: i64 = r.get(at + 7);
    let when: String = r.get(at + 8);
    let queued: String = r.get(at + 9);
    let expanded: i64 = r.get(at + 11);
    Ok(Notification {
        id,
        draft: NotificationDraft {
            dedup_key: r.get(at + 1),
            kind: NotifyKind::parse(&kind).ok_or_else(|| damaged(format!("notification #{id} kind `{kind}`")))?,
            reference: r.get(at + 3),
            area_pcode: r.get(at + 4),
            urgency: urgency
                .map(|u| u.parse().map_err(|_| damaged(format!("notification #{id} urgency `{u}`"))))
                .transpose()?,
            category: r.get(at + 6),
            level: u8::try_from(level).unwrap_or(u8::MAX),
            at: parse_time(&when, "notification time")?,
            queued_at: parse_time(&queued, "notification queued time")?,
            only_channel: r.get(at + 10),
        },
        expanded: expanded != 0,
    })
}

const DELIVERY_COLUMNS: &str = "d.id, d.notification_id, d.channel, d.target, d.status, d.attempts, d.next_attempt_ms";

fn read_delivery(r: &Row) -> Result<Delivery, StoreError> {
    let id: i64 = r.get(0);
    let channel: String = r.get(2);
    let status: String = r.get(4);
    let attempts: i64 = r.get(5);
    let next: i64 = r.get(6);
    Ok(Delivery {
        id,
        notification_id: r.get(1),
        channel: ChannelKind::parse(&channel).ok_or_else(|| damaged(format!("delivery #{id} channel `{channel}`")))?,
        target: r.get(3),
        status: DeliveryStatus::parse(&status).ok_or_else(|| damaged(format!("delivery #{id} status `{status}`")))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: Timestamp::from_millisecond(next)
            .map_err(|e| damaged(format!("delivery #{id} next attempt: {e}")))?,
        history: Vec::new(),
    })
}

fn history(client: &mut impl GenericClient, id: i64) -> Result<Vec<DeliveryEvent>, StoreError> {
    let rows = client
        .query("SELECT seq, what, at, detail FROM notify_history WHERE delivery_id = $1 ORDER BY seq", &[&id])
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            let seq: i64 = r.get(0);
            let at: String = r.get(2);
            Ok(DeliveryEvent {
                seq: seq as u32,
                what: r.get(1),
                at: parse_time(&at, "delivery history time")?,
                detail: r.get(3),
            })
        })
        .collect()
}

fn add_history(
    tx: &mut Transaction<'_>,
    id: i64,
    what: &str,
    at: Timestamp,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let next: i64 =
        tx.query_one("SELECT count(*) FROM notify_history WHERE delivery_id = $1", &[&id]).map_err(db)?.get(0);
    tx.execute(
        "INSERT INTO notify_history (delivery_id, seq, what, at, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&id, &next, &what, &at.to_string(), &detail],
    )
    .map_err(db)?;
    Ok(())
}

fn select_deliveries(
    client: &mut impl GenericClient,
    tail: &str,
    args: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<(Delivery, Notification)>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS}, {NOTIFICATION_COLUMNS} FROM notify_deliveries d
         JOIN notifications n ON n.id = d.notification_id {tail}"
    );
    let rows = client.query(&sql, args).map_err(db)?;
    let mut out = Vec::new();
    for r in &rows {
        let mut d = read_delivery(r)?;
        let n = read_notification(r, 7)?;
        d.history = history(client, d.id)?;
        out.push((d, n));
    }
    Ok(out)
}

fn user_exists(tx: &mut Transaction<'_>, user_id: &str) -> Result<bool, StoreError> {
    Ok(tx.query_opt("SELECT 1 FROM users WHERE id = $1", &[&user_id]).map_err(db)?.is_some())
}

fn read_contact(r: &Row) -> StaffContact {
    StaffContact { user_id: r.get(0), phone: r.get(1), email: r.get(2) }
}

fn expand(tx: &mut Transaction<'_>, id: i64, deliveries: &[DeliveryDraft], at: Timestamp) -> Result<(), StoreError> {
    let changed = tx.execute("UPDATE notifications SET expanded = 1 WHERE id = $1", &[&id]).map_err(db)?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("notification #{id}")));
    }
    for d in deliveries {
        let row = tx
            .query_opt(
                "INSERT INTO notify_deliveries (notification_id, channel, target, status, attempts, next_attempt_ms)
                 VALUES ($1, $2, $3, 'queued', 0, $4)
                 ON CONFLICT (notification_id, channel, target) DO NOTHING RETURNING id",
                &[&id, &d.channel.as_str(), &d.target, &ms(at)],
            )
            .map_err(db)?;
        if let Some(row) = row {
            add_history(tx, row.get(0), "queued", at, None)?;
        }
    }
    Ok(())
}

fn finish(tx: &mut Transaction<'_>, id: i64, outcome: &AttemptOutcome, at: Timestamp) -> Result<(), StoreError> {
    let (what, status, detail) = outcome_entry(outcome);
    let next = match outcome {
        AttemptOutcome::Retry { next_at, .. } => Some(ms(*next_at)),
        _ => None,
    };
    let changed = tx
        .execute(
            "UPDATE notify_deliveries SET status = $2, lease_ms = NULL,
             next_attempt_ms = coalesce($3, next_attempt_ms) WHERE id = $1",
            &[&id, &status.as_str(), &next],
        )
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

impl NotifyStore for PostgresStore {
    fn insert_report_notifying(&self, report: &Report, notifications: &[NotificationDraft]) -> Result<(), StoreError> {
        let received_ns = received_ns(report)?;
        self.report_tx(|tx| {
            insert_report(tx, report, received_ns)?;
            queue(tx, notifications)?;
            Ok(())
        })
    }

    fn queue_notifications(&self, notifications: &[NotificationDraft]) -> Result<Vec<i64>, StoreError> {
        self.report_tx(|tx| queue(tx, notifications))
    }

    fn pending_notifications(&self, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.report_read(|client| {
            let sql = format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications n WHERE n.expanded = 0 ORDER BY n.id LIMIT $1"
            );
            let rows = client.query(&sql, &[&(limit as i64)]).map_err(db)?;
            rows.iter().map(|r| read_notification(r, 0)).collect()
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
            let rows = tx
                .query(
                    "UPDATE notify_deliveries SET status = 'sending', attempts = attempts + 1, lease_ms = $2
                     WHERE id IN (
                         SELECT id FROM notify_deliveries
                         WHERE (status = 'queued' AND next_attempt_ms <= $1)
                            OR (status = 'sending' AND coalesce(lease_ms, 0) <= $1)
                         ORDER BY next_attempt_ms, id LIMIT $3
                         FOR UPDATE SKIP LOCKED)
                     RETURNING id, attempts",
                    &[&ms(now), &ms(lease_until), &(limit as i64)],
                )
                .map_err(db)?;
            let mut ids: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            ids.sort();
            let mut out = Vec::new();
            for (id, attempts) in ids {
                add_history(tx, id, "attempt", now, Some(&attempts.to_string()))?;
                out.extend(select_deliveries(tx, "WHERE d.id = $1", &[&id])?);
            }
            Ok(out)
        })
    }

    fn finish_deliveries(&self, batch: &[(i64, AttemptOutcome)], at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| batch.iter().try_for_each(|(id, outcome)| finish(tx, *id, outcome, at)))
    }

    fn deliveries(&self, limit: usize) -> Result<Vec<(Delivery, Notification)>, StoreError> {
        self.report_read(|client| select_deliveries(client, "ORDER BY d.id DESC LIMIT $1", &[&(limit as i64)]))
    }

    fn add_rota_entry(&self, e: &RotaDraft) -> Result<i64, StoreError> {
        self.report_tx(|tx| {
            if !user_exists(tx, &e.user_id)? {
                return Err(StoreError::NotFound(format!("user {}", e.user_id)));
            }
            let row = tx
                .query_one(
                    "INSERT INTO oncall_rota (area_pcode, role, user_id, from_at, to_at, fallback, set_by, set_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &e.area_pcode,
                        &e.role.as_str(),
                        &e.user_id,
                        &e.from.to_string(),
                        &e.to.map(|t| t.to_string()),
                        &i64::from(e.fallback),
                        &e.set_by,
                        &e.set_at.to_string(),
                    ],
                )
                .map_err(db)?;
            super::audit::append(tx, &rota_audit(e))?;
            Ok(row.get(0))
        })
    }

    fn rota(&self) -> Result<Vec<RotaEntry>, StoreError> {
        let mut rota = self.report_read(|client| {
            let rows = client
                .query(
                    "SELECT id, area_pcode, role, user_id, from_at, to_at, fallback, set_by, set_at FROM oncall_rota",
                    &[],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let role: String = r.get(2);
                    let from: String = r.get(4);
                    let to: Option<String> = r.get(5);
                    let fallback: i64 = r.get(6);
                    let set_at: String = r.get(8);
                    Ok(RotaEntry {
                        id: r.get(0),
                        area_pcode: r.get(1),
                        role: role.parse().map_err(damaged)?,
                        user_id: r.get(3),
                        from: parse_time(&from, "rota start")?,
                        to: to.map(|t| parse_time(&t, "rota end")).transpose()?,
                        fallback: fallback != 0,
                        set_by: r.get(7),
                        set_at: parse_time(&set_at, "rota time")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        rota.sort_by(|a, b| (&a.area_pcode, a.role, a.from, a.id).cmp(&(&b.area_pcode, b.role, b.from, b.id)));
        Ok(rota)
    }

    fn remove_rota_entry(&self, id: i64, by: &str, at: Timestamp) -> Result<RotaEntry, StoreError> {
        self.report_tx(|tx| {
            let r = tx
                .query_opt(
                    "DELETE FROM oncall_rota WHERE id = $1
                     RETURNING id, area_pcode, role, user_id, from_at, to_at, fallback, set_by, set_at",
                    &[&id],
                )
                .map_err(db)?
                .ok_or_else(|| StoreError::NotFound(format!("rota entry {id}")))?;
            let to: Option<String> = r.get(5);
            let entry = rota_entry(
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                to.as_deref(),
                r.get(6),
                r.get(7),
                r.get(8),
            )?;
            super::audit::append(tx, &rota_removed_audit(&entry, by, at))?;
            Ok(entry)
        })
    }

    fn set_staff_contact(&self, c: &StaffContact) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            if !user_exists(tx, &c.user_id)? {
                return Err(StoreError::NotFound(format!("user {}", c.user_id)));
            }
            let written = tx.execute(
                "INSERT INTO staff_contacts (user_id, phone, email) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, email = excluded.email",
                &[&c.user_id, &c.phone, &c.email],
            );
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
        self.report_read(|client| {
            let row = client
                .query_opt("SELECT user_id, phone, email FROM staff_contacts WHERE user_id = $1", &[&user_id])
                .map_err(db)?;
            Ok(row.as_ref().map(read_contact))
        })
    }

    fn staff_by_phone(&self, phone: &str) -> Result<Option<StaffContact>, StoreError> {
        self.report_read(|client| {
            let row = client
                .query_opt("SELECT user_id, phone, email FROM staff_contacts WHERE phone = $1", &[&phone])
                .map_err(db)?;
            Ok(row.as_ref().map(read_contact))
        })
    }
}
