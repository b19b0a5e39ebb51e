//! The in-memory [`ReportStore`]: the reference the contract suite is
//! checked against, and a store for tests.

use crate::StoreError;
use crate::notify::{NotifyStore, RotaDraft, outcome_entry};
use crate::report_codec::{sms_message_id, sms_repeat_conflict};
use crate::reports::{AccessEnded, ReportFilter, ReportStore, TagCorrection, TokenSelector, sort_by_creation};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use vitalcore_intake::duplicates::DuplicateLink;
use vitalcore_intake::notify::{
    AttemptOutcome, Delivery, DeliveryDraft, DeliveryEvent, DeliveryStatus, Notification, NotificationDraft, RotaEntry,
    StaffContact,
};
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage, OutboxStatus};
use vitalcore_intake::report::{Reference, Report, Verification};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_security::audit::{AuditEntry, AuditEvent};
use vitalcore_security::auth::{ApiToken, Session, TokenHash, User};
use vitalcore_security::crypto::ContactRead;

/// Everything in memory, behind one mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    reports: BTreeMap<Reference, Report>,
    steps: HashMap<Reference, Vec<StepRecord>>,
    users: BTreeMap<String, User>,
    sessions: HashMap<TokenHash, Session>,
    api_tokens: HashMap<TokenHash, ApiToken>,
    contact_reads: Vec<ContactRead>,
    kobo: HashMap<String, HashMap<String, Reference>>,
    corrections: Vec<TagCorrection>,
    outbox: Vec<OutboxMessage>,
    audit: Vec<AuditEntry>,
    notify: NotifyTables,
}

/// The notification outbox, rota and staff contacts (migration 11).
#[derive(Debug, Default)]
struct NotifyTables {
    notifications: Vec<Notification>,
    deliveries: Vec<(Delivery, Option<Timestamp>)>,
    rota: Vec<RotaEntry>,
    contacts: BTreeMap<String, StaffContact>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Revokes the selected tokens not yet revoked, each chained; returns them
/// as revoked, oldest first.
fn revoke_in(inner: &mut Inner, which: &TokenSelector, at: Timestamp, by: &str) -> Vec<ApiToken> {
    let mut out = Vec::new();
    for t in inner.api_tokens.values_mut().filter(|t| which.matches(t) && t.revoked_at.is_none()) {
        t.revoked_at = Some(at);
        out.push(t.clone());
    }
    sort_by_creation(&mut out, |t| (t.created_at, t.token_hash));
    for t in &out {
        chain(inner, AuditEvent::token_revoked(t, by, at));
    }
    out
}

/// Appends an event to the audit chain, under the store's lock.
fn chain(inner: &mut Inner, event: AuditEvent) -> AuditEntry {
    let entry = AuditEntry::after(inner.audit.last().map(|e| (e.seq, e.hash.as_str())), event);
    inner.audit.push(entry.clone());
    entry
}

/// The alert step rules, under the store's lock.
fn append_step_locked(inner: &mut Inner, record: &StepRecord) -> Result<(), StoreError> {
    if !inner.reports.contains_key(&record.alert) {
        return Err(StoreError::NotFound(format!("alert {}", record.alert)));
    }
    let log = inner.steps.entry(record.alert.clone()).or_default();
    if record.seq as usize != log.len() {
        return Err(StoreError::Conflict(format!(
            "alert {} changed meanwhile (step #{} already recorded); reload it and try again",
            record.alert, record.seq
        )));
    }
    log.push(record.clone());
    chain(inner, record.audit_event());
    Ok(())
}

impl ReportStore for MemoryStore {
    fn insert_report(&self, report: &Report) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.reports.contains_key(&report.reference) {
            return Err(StoreError::Conflict(format!("reference {} is already used", report.reference)));
        }
        if let Some((gateway, id)) = sms_message_id(report)
            && inner.reports.values().any(|r| sms_message_id(r) == Some((gateway, id)))
        {
            return Err(sms_repeat_conflict(gateway, id));
        }
        inner.reports.insert(report.reference.clone(), report.clone());
        Ok(())
    }

    fn sms_report(&self, gateway: &str, message_id: &str) -> Result<Option<Report>, StoreError> {
        Ok(self.lock().reports.values().find(|r| sms_message_id(r) == Some((gateway, message_id))).cloned())
    }

    fn report(&self, reference: &Reference) -> Result<Option<Report>, StoreError> {
        Ok(self.lock().reports.get(reference).cloned())
    }

    fn reports(&self, filter: &ReportFilter) -> Result<Vec<Report>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<Report> = inner.reports.values().filter(|r| filter.matches(r)).cloned().collect();
        out.sort_by_key(|r| r.received_at);
        if let Some(limit) = filter.limit {
            out.truncate(limit);
        }
        Ok(out)
    }

    fn set_verification(&self, reference: &Reference, state: Verification) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let r = inner.reports.get_mut(reference).ok_or_else(|| StoreError::NotFound(format!("report {reference}")))?;
        r.verification = state;
        Ok(())
    }

    fn add_duplicate_links(&self, reference: &Reference, links: &[DuplicateLink]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let r = inner.reports.get_mut(reference).ok_or_else(|| StoreError::NotFound(format!("report {reference}")))?;
        for link in links {
            r.duplicates.retain(|l| l.other != link.other);
            r.duplicates.push(link.clone());
        }
        Ok(())
    }

    fn append_step(&self, record: &StepRecord) -> Result<(), StoreError> {
        append_step_locked(&mut self.lock(), record)
    }

    fn steps(&self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
        Ok(self.lock().steps.get(alert).cloned().unwrap_or_default())
    }

    fn append_step_with_messages(&self, record: &StepRecord, messages: &[OutboxDraft]) -> Result<Vec<i64>, StoreError> {
        let mut inner = self.lock();
        if let Some(m) = messages.iter().find(|m| !inner.reports.contains_key(&m.report)) {
            return Err(StoreError::NotFound(format!("report {}", m.report)));
        }
        if let Some(m) =
            messages.iter().find(|m| inner.outbox.iter().any(|o| o.report == m.report && o.step_seq == m.step_seq))
        {
            return Err(StoreError::Conflict(format!(
                "step #{} of alert {} already queued a message",
                m.step_seq, m.report
            )));
        }
        // The step is checked before anything is kept, so a refused step queues nothing.
        append_step_locked(&mut inner, record)?;
        let mut ids = Vec::with_capacity(messages.len());
        for m in messages {
            let id = inner.outbox.len() as i64 + 1;
            let queued = OutboxChange {
                message_id: id,
                seq: 0,
                status: OutboxStatus::Queued,
                user_id: m.queued_by.clone(),
                at: m.queued_at,
                detail: None,
            };
            inner.outbox.push(OutboxMessage {
                id,
                report: m.report.clone(),
                step_seq: m.step_seq,
                language: m.language.clone(),
                body: m.body.clone(),
                history: vec![queued],
                origin: None,
            });
            ids.push(id);
        }
        Ok(ids)
    }

    fn outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(self.lock().outbox.iter().filter(|m| filter.matches(m)).cloned().collect())
    }

    fn append_outbox_changes(&self, changes: &[OutboxChange]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let mut next: HashMap<i64, u32> = HashMap::new();
        for c in changes {
            let message = inner
                .outbox
                .iter()
                .find(|m| m.id == c.message_id)
                .ok_or_else(|| StoreError::NotFound(format!("outbox message #{}", c.message_id)))?;
            let expected = next.get(&c.message_id).copied().unwrap_or(message.history.len() as u32);
            crate::report_codec::check_next_change(c, i64::from(expected))?;
            next.insert(c.message_id, expected + 1);
        }
        for c in changes {
            if let Some(m) = inner.outbox.iter_mut().find(|m| m.id == c.message_id) {
                m.history.push(c.clone());
            }
        }
        Ok(())
    }

    fn save_user(&self, user: &User, by: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.users.values().any(|u| u.username == user.username && u.id != user.id) {
            return Err(StoreError::Conflict(format!("username `{}` is taken", user.username)));
        }
        let before = inner.users.insert(user.id.clone(), user.clone());
        for event in AuditEvent::user_saved(before.as_ref(), user, by, Timestamp::now()) {
            chain(&mut inner, event);
        }
        Ok(())
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.values().find(|u| u.username == username).cloned())
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut users: Vec<User> = self.lock().users.values().cloned().collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    fn save_user_ending_access(&self, user: &User, at: Timestamp, by: &str) -> Result<AccessEnded, StoreError> {
        let mut inner = self.lock();
        if inner.users.values().any(|u| u.username == user.username && u.id != user.id) {
            return Err(StoreError::Conflict(format!("username `{}` is taken", user.username)));
        }
        let Some(before) = inner.users.insert(user.id.clone(), user.clone()) else {
            inner.users.remove(&user.id);
            return Err(StoreError::NotFound(format!("user `{}`", user.username)));
        };
        for event in AuditEvent::user_saved(Some(&before), user, by, at) {
            chain(&mut inner, event);
        }
        let sessions_before = inner.sessions.len();
        inner.sessions.retain(|_, s| s.user_id != user.id);
        let sessions_ended = sessions_before - inner.sessions.len();
        let tokens_revoked = revoke_in(&mut inner, &TokenSelector::User(user.id.clone()), at, by).len();
        Ok(AccessEnded { sessions_ended, tokens_revoked })
    }

    fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let mut out: Vec<Session> = self.lock().sessions.values().filter(|s| s.user_id == user_id).cloned().collect();
        sort_by_creation(&mut out, |s| (s.created_at, s.token_hash));
        Ok(out)
    }

    fn delete_sessions_of(&self, user_id: &str) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let before = inner.sessions.len();
        inner.sessions.retain(|_, s| s.user_id != user_id);
        Ok(before - inner.sessions.len())
    }

    fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        if let Some(s) = self.lock().sessions.get_mut(hash) {
            s.last_seen_at = at;
        }
        Ok(())
    }

    fn delete_expired_sessions(&self, now: Timestamp, idle_since: Timestamp) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let before = inner.sessions.len();
        inner.sessions.retain(|_, s| s.expires_at > now && s.last_seen_at >= idle_since);
        Ok(before - inner.sessions.len())
    }

    fn api_tokens(&self, which: &TokenSelector) -> Result<Vec<ApiToken>, StoreError> {
        let mut out: Vec<ApiToken> = self.lock().api_tokens.values().filter(|t| which.matches(t)).cloned().collect();
        sort_by_creation(&mut out, |t| (t.created_at, t.token_hash));
        Ok(out)
    }

    fn revoke_api_tokens(&self, which: &TokenSelector, at: Timestamp, by: &str) -> Result<Vec<ApiToken>, StoreError> {
        Ok(revoke_in(&mut self.lock(), which, at, by))
    }

    fn save_session(&self, session: &Session) -> Result<(), StoreError> {
        self.lock().sessions.insert(session.token_hash, session.clone());
        Ok(())
    }

    fn session(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        Ok(self.lock().sessions.get(hash).cloned())
    }

    fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.lock().sessions.remove(hash);
        Ok(())
    }

    fn save_api_token(&self, token: &ApiToken, by: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let before = inner.api_tokens.insert(token.token_hash, token.clone());
        for event in AuditEvent::token_saved(before.as_ref(), token, by, Timestamp::now()) {
            chain(&mut inner, event);
        }
        Ok(())
    }

    fn api_token(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
        Ok(self.lock().api_tokens.get(hash).cloned())
    }

    fn revoke_api_token(&self, hash: &TokenHash, at: Timestamp, by: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let t = inner.api_tokens.get_mut(hash).ok_or_else(|| StoreError::NotFound("API token".into()))?;
        if t.revoked_at.is_none() {
            t.revoked_at = Some(at);
            let event = AuditEvent::token_revoked(t, by, at);
            chain(&mut inner, event);
        }
        Ok(())
    }

    fn append_contact_read(&self, read: &ContactRead) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.contact_reads.push(read.clone());
        chain(&mut inner, AuditEvent::contact_read(read));
        Ok(())
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
        Ok(chain(&mut self.lock(), event.clone()))
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.lock().audit.iter().filter(|e| e.seq > after_seq).take(limit).cloned().collect())
    }

    fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError> {
        Ok(self.lock().audit.last().cloned())
    }

    fn contact_read_log(&self) -> Result<Vec<ContactRead>, StoreError> {
        Ok(self.lock().contact_reads.clone())
    }

    fn step_log(&self) -> Result<Vec<StepRecord>, StoreError> {
        let inner = self.lock();
        let mut all: Vec<StepRecord> = inner.steps.values().flatten().cloned().collect();
        all.sort_by(|a, b| (a.at, &a.alert, a.seq).cmp(&(b.at, &b.alert, b.seq)));
        Ok(all)
    }

    fn contact_reads(&self, reference: &Reference) -> Result<Vec<ContactRead>, StoreError> {
        Ok(self.lock().contact_reads.iter().filter(|r| r.report == reference.as_str()).cloned().collect())
    }

    fn kobo_uuids(&self, form: &str) -> Result<HashSet<String>, StoreError> {
        Ok(self.lock().kobo.get(form).map(|m| m.keys().cloned().collect()).unwrap_or_default())
    }

    fn record_kobo_uuids(&self, form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let seen = inner.kobo.entry(form.to_string()).or_default();
        for (uuid, reference) in uuids {
            seen.entry(uuid.clone()).or_insert_with(|| reference.clone());
        }
        Ok(())
    }

    fn correct_tags(&self, correction: &TagCorrection) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let r = inner
            .reports
            .get_mut(&correction.report)
            .ok_or_else(|| StoreError::NotFound(format!("report {}", correction.report)))?;
        r.tags.dimensions = correction.dimensions.clone();
        r.tags.themes = correction.themes.clone();
        r.tags.rule = correction.rule();
        inner.corrections.push(correction.clone());
        Ok(())
    }

    fn tag_corrections(&self) -> Result<Vec<TagCorrection>, StoreError> {
        Ok(self.lock().corrections.clone())
    }
}

fn queue_locked(inner: &mut Inner, drafts: &[NotificationDraft]) -> Vec<i64> {
    let mut ids = Vec::new();
    for d in drafts {
        if inner.notify.notifications.iter().any(|n| n.draft.dedup_key == d.dedup_key) {
            continue;
        }
        let id = inner.notify.notifications.len() as i64 + 1;
        inner.notify.notifications.push(Notification { id, draft: d.clone(), expanded: false });
        ids.push(id);
    }
    ids
}

fn notification_of(inner: &Inner, id: i64) -> Result<Notification, StoreError> {
    inner
        .notify
        .notifications
        .iter()
        .find(|n| n.id == id)
        .cloned()
        .ok_or_else(|| StoreError::NotFound(format!("notification #{id}")))
}

fn history_entry(d: &mut Delivery, what: &str, at: Timestamp, detail: Option<&str>) {
    let seq = d.history.len() as u32;
    d.history.push(DeliveryEvent { seq, what: what.to_string(), at, detail: detail.map(str::to_string) });
}

fn expand_locked(inner: &mut Inner, id: i64, deliveries: &[DeliveryDraft], at: Timestamp) {
    for draft in deliveries {
        let taken = inner
            .notify
            .deliveries
            .iter()
            .any(|(d, _)| d.notification_id == id && d.channel == draft.channel && d.target == draft.target);
        if taken {
            continue;
        }
        let mut d = Delivery {
            id: inner.notify.deliveries.len() as i64 + 1,
            notification_id: id,
            channel: draft.channel,
            target: draft.target.clone(),
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: at,
            history: Vec::new(),
        };
        history_entry(&mut d, "queued", at, None);
        inner.notify.deliveries.push((d, None));
    }
    if let Some(n) = inner.notify.notifications.iter_mut().find(|n| n.id == id) {
        n.expanded = true;
    }
}

impl NotifyStore for MemoryStore {
    fn insert_report_notifying(&self, report: &Report, notifications: &[NotificationDraft]) -> Result<(), StoreError> {
        self.insert_report(report)?;
        queue_locked(&mut self.lock(), notifications);
        Ok(())
    }

    fn queue_notifications(&self, notifications: &[NotificationDraft]) -> Result<Vec<i64>, StoreError> {
        Ok(queue_locked(&mut self.lock(), notifications))
    }

    fn pending_notifications(&self, limit: usize) -> Result<Vec<Notification>, StoreError> {
        Ok(self.lock().notify.notifications.iter().filter(|n| !n.expanded).take(limit).cloned().collect())
    }

    fn expand_notifications(&self, batch: &[(i64, Vec<DeliveryDraft>)], at: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for (id, _) in batch {
            notification_of(&inner, *id)?;
        }
        for (id, deliveries) in batch {
            expand_locked(&mut inner, *id, deliveries, at);
        }
        Ok(())
    }

    fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Delivery, Notification)>, StoreError> {
        let mut inner = self.lock();
        let mut claimed = Vec::new();
        for (d, lease) in inner.notify.deliveries.iter_mut() {
            if claimed.len() >= limit {
                break;
            }
            let due = match d.status {
                DeliveryStatus::Queued => d.next_attempt_at <= now,
                DeliveryStatus::Sending => lease.is_none_or(|l| l <= now),
                _ => false,
            };
            if !due {
                continue;
            }
            d.status = DeliveryStatus::Sending;
            d.attempts += 1;
            *lease = Some(lease_until);
            let n = d.attempts.to_string();
            history_entry(d, "attempt", now, Some(&n));
            claimed.push(d.clone());
        }
        claimed.into_iter().map(|d| Ok((d.clone(), notification_of(&inner, d.notification_id)?))).collect()
    }

    fn finish_deliveries(&self, batch: &[(i64, AttemptOutcome)], at: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for (id, _) in batch {
            if !inner.notify.deliveries.iter().any(|(d, _)| d.id == *id) {
                return Err(StoreError::NotFound(format!("delivery #{id}")));
            }
        }
        for (id, outcome) in batch {
            finish_locked(&mut inner, *id, outcome, at);
        }
        Ok(())
    }

    fn deliveries(&self, limit: usize) -> Result<Vec<(Delivery, Notification)>, StoreError> {
        let inner = self.lock();
        inner
            .notify
            .deliveries
            .iter()
            .rev()
            .take(limit)
            .map(|(d, _)| Ok((d.clone(), notification_of(&inner, d.notification_id)?)))
            .collect()
    }

    fn add_rota_entry(&self, e: &RotaDraft) -> Result<i64, StoreError> {
        let mut inner = self.lock();
        if !inner.users.contains_key(&e.user_id) {
            return Err(StoreError::NotFound(format!("user {}", e.user_id)));
        }
        let id = inner.notify.rota.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        inner.notify.rota.push(RotaEntry {
            id,
            area_pcode: e.area_pcode.clone(),
            role: e.role,
            user_id: e.user_id.clone(),
            from: e.from,
            to: e.to,
            fallback: e.fallback,
            set_by: e.set_by.clone(),
            set_at: e.set_at,
        });
        chain(&mut inner, crate::notify::rota_audit(e));
        Ok(id)
    }

    fn rota(&self) -> Result<Vec<RotaEntry>, StoreError> {
        let mut rota = self.lock().notify.rota.clone();
        rota.sort_by(|a, b| (&a.area_pcode, a.role, a.from, a.id).cmp(&(&b.area_pcode, b.role, b.from, b.id)));
        Ok(rota)
    }

    fn remove_rota_entry(&self, id: i64, by: &str, at: Timestamp) -> Result<RotaEntry, StoreError> {
        let mut inner = self.lock();
        let at_index = inner.notify.rota.iter().position(|r| r.id == id);
        let entry = inner.notify.rota.remove(at_index.ok_or_else(|| StoreError::NotFound(format!("rota entry {id}")))?);
        chain(&mut inner, crate::notify::rota_removed_audit(&entry, by, at));
        Ok(entry)
    }

    fn set_staff_contact(&self, c: &StaffContact) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.users.contains_key(&c.user_id) {
            return Err(StoreError::NotFound(format!("user {}", c.user_id)));
        }
        if let Some(phone) = &c.phone
            && inner.notify.contacts.values().any(|o| o.user_id != c.user_id && o.phone.as_ref() == Some(phone))
        {
            return Err(StoreError::Conflict(format!("the phone {phone} is already registered to another user")));
        }
        inner.notify.contacts.insert(c.user_id.clone(), c.clone());
        Ok(())
    }

    fn staff_contact(&self, user_id: &str) -> Result<Option<StaffContact>, StoreError> {
        Ok(self.lock().notify.contacts.get(user_id).cloned())
    }

    fn staff_by_phone(&self, phone: &str) -> Result<Option<StaffContact>, StoreError> {
        Ok(self.lock().notify.contacts.values().find(|c| c.phone.as_deref() == Some(phone)).cloned())
    }
}

fn finish_locked(inner: &mut Inner, id: i64, outcome: &AttemptOutcome, at: Timestamp) {
    let Some((d, lease)) = inner.notify.deliveries.iter_mut().find(|(d, _)| d.id == id) else { return };
    let (what, status, detail) = outcome_entry(outcome);
    d.status = status;
    *lease = None;
    if let AttemptOutcome::Retry { next_at, .. } = outcome {
        d.next_attempt_at = *next_at;
    }
    history_entry(d, what, at, Some(detail));
    if let Some(event) = crate::notify::outcome_audit(id, outcome, at) {
        chain(inner, event);
    }
}
