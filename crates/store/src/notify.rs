//! What a backend persists for notifying duty officers (migration 11): the
//! on-call rota, staff phones and e-mail addresses, and the notification
//! outbox (notifications, their deliveries, each delivery's append-only
//! history).
//!
//! Contract every backend keeps:
//! - a report and the notifications its alert gives rise to are stored in
//!   one transaction ([`NotifyStore::insert_report_notifying`]): never a
//!   new alert without its notification, nor a notification without its alert;
//! - a notification's `dedup_key` is unique: queueing one again is a no-op
//!   (an escalation or a warning derived again from stored state, a retried
//!   request), never a second notification;
//! - a delivery is unique per (notification, channel, target): expanding a
//!   notification twice adds nothing;
//! - [`NotifyStore::claim_deliveries`] hands each due delivery to one caller
//!   only (one transaction; PostgreSQL skips rows another worker has
//!   locked), and records the attempt (status `sending`, the attempt
//!   counted, an `attempt` history entry) before it returns, so that an
//!   attempt cut short by a crash is on record; the claim runs out at
//!   `lease_until`, after which the delivery is due again;
//! - a delivery's history is append-only.

use crate::StoreError;
use jiff::Timestamp;
use vitalcore_intake::notify::{
    AttemptOutcome, Delivery, DeliveryDraft, DutyRole, Notification, NotificationDraft, RotaEntry, StaffContact,
};
use vitalcore_intake::report::Report;
use vitalcore_security::audit::{AuditAction, AuditEvent};

/// A rota entry to add (the store assigns the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotaDraft {
    pub area_pcode: String,
    pub role: DutyRole,
    pub user_id: String,
    pub from: Timestamp,
    pub to: Option<Timestamp>,
    pub fallback: bool,
    pub set_by: String,
    pub set_at: Timestamp,
}

pub trait NotifyStore: Send + Sync {
    /// Stores a report (as [`crate::reports::ReportStore::insert_report`],
    /// same rules) and queues `notifications` with it, in one transaction.
    /// A notification whose dedup key is taken is skipped.
    fn insert_report_notifying(&self, report: &Report, notifications: &[NotificationDraft]) -> Result<(), StoreError>;

    /// Queues notifications; one whose dedup key is already queued is
    /// skipped. Returns the ids of those queued now.
    fn queue_notifications(&self, notifications: &[NotificationDraft]) -> Result<Vec<i64>, StoreError>;

    /// Notifications not yet expanded into deliveries, oldest first.
    fn pending_notifications(&self, limit: usize) -> Result<Vec<Notification>, StoreError>;

    /// Writes a notification's deliveries (each `queued`, due at `at`; one
    /// already there is skipped) and marks it expanded, in one transaction.
    fn expand_notification(&self, id: i64, deliveries: &[DeliveryDraft], at: Timestamp) -> Result<(), StoreError> {
        self.expand_notifications(&[(id, deliveries.to_vec())], at)
    }
    /// [`NotifyStore::expand_notification`] for many notifications in one
    /// transaction (one durable commit for a busy worker's batch).
    fn expand_notifications(&self, batch: &[(i64, Vec<DeliveryDraft>)], at: Timestamp) -> Result<(), StoreError>;

    /// Claims up to `limit` deliveries due at `now` (queued and due, or
    /// sending with a claim that ran out), records the attempt, and returns
    /// them with their notification. Each is claimed until `lease_until`.
    fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Delivery, Notification)>, StoreError>;

    /// Records how an attempt ended (sent; failed and retried at a time;
    /// failed for good), with the history entry.
    fn finish_delivery(&self, id: i64, outcome: &AttemptOutcome, at: Timestamp) -> Result<(), StoreError> {
        self.finish_deliveries(&[(id, outcome.clone())], at)
    }
    /// [`NotifyStore::finish_delivery`] for many deliveries, in one transaction.
    fn finish_deliveries(&self, batch: &[(i64, AttemptOutcome)], at: Timestamp) -> Result<(), StoreError>;

    /// The newest `limit` deliveries with their notification and history, newest first.
    fn deliveries(&self, limit: usize) -> Result<Vec<(Delivery, Notification)>, StoreError>;

    /// Adds a rota entry; returns its id. The user must exist (else `NotFound`).
    fn add_rota_entry(&self, entry: &RotaDraft) -> Result<i64, StoreError>;
    /// Every rota entry, by area, role and start.
    fn rota(&self) -> Result<Vec<RotaEntry>, StoreError>;
    /// Takes an entry off the rota, with its audit entry (by `by` at `at`)
    /// in the same transaction; returns what it was. An unknown id is `NotFound`.
    fn remove_rota_entry(&self, id: i64, by: &str, at: Timestamp) -> Result<RotaEntry, StoreError>;

    /// Sets a staff member's phone and e-mail (replacing what was there).
    /// A phone already registered to someone else is a conflict (an ACK by
    /// SMS must name one person). An unknown user is `NotFound`.
    fn set_staff_contact(&self, contact: &StaffContact) -> Result<(), StoreError>;
    fn staff_contact(&self, user_id: &str) -> Result<Option<StaffContact>, StoreError>;
    /// The staff member whose registered phone is `phone` (international form).
    fn staff_by_phone(&self, phone: &str) -> Result<Option<StaffContact>, StoreError>;
}

/// The audit chain entry of a delivery's outcome: one when it was sent or
/// failed for good (a retry is in the delivery's history only). Written by
/// the store in the transaction that records the outcome.
pub fn outcome_audit(delivery_id: i64, outcome: &AttemptOutcome, at: Timestamp) -> Option<AuditEvent> {
    let (what, _, detail) = outcome_entry(outcome);
    if matches!(outcome, AttemptOutcome::Retry { .. }) {
        return None;
    }
    let subject = format!("delivery #{delivery_id}");
    Some(AuditEvent::new(at, NOTIFIER, AuditAction::Notification, subject, format!("{what}: {detail}")))
}

/// The audit chain entry of a rota entry added (by its `set_by`).
pub fn rota_audit(e: &RotaDraft) -> AuditEvent {
    let detail = rota_window(&e.area_pcode, e.role, e.from, e.to, e.fallback);
    AuditEvent::new(e.set_at, e.set_by.clone(), AuditAction::OnCallChanged, e.user_id.clone(), detail)
}

/// The audit chain entry of a rota entry taken off (by `by`, at `at`).
pub fn rota_removed_audit(e: &RotaEntry, by: &str, at: Timestamp) -> AuditEvent {
    let detail = format!("removed #{}: {}", e.id, rota_window(&e.area_pcode, e.role, e.from, e.to, e.fallback));
    AuditEvent::new(at, by.to_string(), AuditAction::OnCallChanged, e.user_id.clone(), detail)
}

fn rota_window(area: &str, role: DutyRole, from: Timestamp, to: Option<Timestamp>, fallback: bool) -> String {
    let until = to.map_or_else(|| "open-ended".to_string(), |t| t.to_string());
    format!("{area} {} from {from} to {until}{}", role.as_str(), if fallback { " (fallback)" } else { "" })
}

/// A rota row as both backends store it (times RFC 3339, `fallback` 0/1).
#[allow(clippy::too_many_arguments)]
pub fn rota_entry(
    id: i64,
    area_pcode: String,
    role: &str,
    user_id: String,
    from: &str,
    to: Option<&str>,
    fallback: i64,
    set_by: String,
    set_at: &str,
) -> Result<RotaEntry, StoreError> {
    use crate::report_codec::{damaged, parse_time};
    Ok(RotaEntry {
        id,
        area_pcode,
        role: role.parse().map_err(damaged)?,
        user_id,
        from: parse_time(from, "rota start")?,
        to: to.map(|t| parse_time(t, "rota end")).transpose()?,
        fallback: fallback != 0,
        set_by,
        set_at: parse_time(set_at, "rota time")?,
    })
}

/// Who the audit chain names for what the notification worker did.
pub const NOTIFIER: &str = "system:notify";

/// The history entry an outcome writes and the status it leaves.
pub fn outcome_entry(outcome: &AttemptOutcome) -> (&'static str, vitalcore_intake::notify::DeliveryStatus, &str) {
    use vitalcore_intake::notify::DeliveryStatus as S;
    match outcome {
        AttemptOutcome::Sent(id) => ("sent", S::Sent, id),
        AttemptOutcome::Retry { reason, .. } => ("retry", S::Queued, reason),
        AttemptOutcome::Failed(reason) => ("failed", S::Failed, reason),
    }
}
