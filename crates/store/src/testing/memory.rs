//! The in-memory [`ReportStore`]: the reference the contract suite is
//! checked against, and a store for tests.

use crate::StoreError;
use crate::report_codec::{sms_message_id, sms_repeat_conflict};
use crate::reports::{AccessEnded, ReportFilter, ReportStore, TagCorrection, TokenSelector, sort_by_creation};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use vitalcore_intake::duplicates::DuplicateLink;
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
