//! What a backend must persist, as one trait, and an in-memory backend for
//! tests and for trying things out. The SQLite and PostgreSQL backends
//! implement [`ReportStore`] against their own schemas.
//!
//! Contract every backend keeps:
//! - reports are inserted once; a reference already used is a
//!   [`StoreError::Conflict`] (the caller draws a new reference and retries);
//! - the contact is stored only as [`crate::SealedContact::as_stored`] text,
//!   never decrypted by the store;
//! - alert steps are append-only: a step whose `seq` is not the next one is a
//!   conflict (two people acting at once), and steps are never updated or deleted;
//! - password hashes and token hashes only, never tokens;
//! - every contact read is in the audit log before the contact is shown
//!   ([`reveal_contact`] does it in that order);
//! - KoBo submission uuids per form, so a re-import adds nothing;
//! - a step giving feedback by SMS is stored with the outbox message it
//!   queues, in one transaction; outbox messages are never changed or
//!   deleted, and their status history is append-only like alert steps (a
//!   change whose `seq` is not the next one is a conflict).

use crate::auth::{Action, ApiToken, Resource, Session, TokenHash, User, authorize};
use crate::crypto::{ContactKey, ContactRead, CryptoError, RevealedContact};
use crate::duplicates::DuplicateLink;
use crate::outbox::{OutboxChange, OutboxDraft, OutboxError, OutboxFilter, OutboxMessage, OutboxStatus};
use crate::report::{Reference, Report, Verification};
use crate::workflow::{Alert, Step, StepRecord, WorkflowError};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("storage failed: {0}")]
    Backend(String),
}

/// Which reports to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportFilter {
    pub area_pcode: Option<String>,
    pub received_from: Option<Timestamp>,
    pub received_until: Option<Timestamp>,
    pub limit: Option<usize>,
}

impl ReportFilter {
    pub fn matches(&self, r: &Report) -> bool {
        self.area_pcode.as_ref().is_none_or(|a| r.place.area_pcode.as_ref() == Some(a))
            && self.received_from.is_none_or(|t| r.received_at >= t)
            && self.received_until.is_none_or(|t| r.received_at < t)
    }
}

pub trait ReportStore: Send + Sync {
    fn insert_report(&self, report: &Report) -> Result<(), StoreError>;
    fn report(&self, reference: &Reference) -> Result<Option<Report>, StoreError>;
    /// Reports matching the filter, oldest received first.
    fn reports(&self, filter: &ReportFilter) -> Result<Vec<Report>, StoreError>;
    fn set_verification(&self, reference: &Reference, state: Verification) -> Result<(), StoreError>;
    /// Adds links (a link to a report already linked replaces the old score).
    fn add_duplicate_links(&self, reference: &Reference, links: &[DuplicateLink]) -> Result<(), StoreError>;

    /// Appends a workflow step; `record.seq` must be the alert's next position.
    fn append_step(&self, record: &StepRecord) -> Result<(), StoreError>;
    fn steps(&self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError>;

    /// Appends a workflow step and queues the outbox messages it gives rise
    /// to (feedback by SMS), each with its first status `queued`, in one
    /// transaction: a step is never stored without its message, nor a
    /// message without its step. Returns the messages' ids.
    fn append_step_with_messages(&self, record: &StepRecord, messages: &[OutboxDraft]) -> Result<Vec<i64>, StoreError>;
    /// Outbox messages matching the filter, with their status history, oldest first.
    fn outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Appends status changes, all or none; each `seq` must be its message's
    /// next position (else a conflict), an unknown message is not found.
    fn append_outbox_changes(&self, changes: &[OutboxChange]) -> Result<(), StoreError>;

    fn save_user(&self, user: &User) -> Result<(), StoreError>;
    fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    fn save_session(&self, session: &Session) -> Result<(), StoreError>;
    fn session(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError>;
    fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError>;
    fn save_api_token(&self, token: &ApiToken) -> Result<(), StoreError>;
    fn api_token(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError>;
    fn revoke_api_token(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError>;

    fn append_contact_read(&self, read: &ContactRead) -> Result<(), StoreError>;
    fn contact_reads(&self, reference: &Reference) -> Result<Vec<ContactRead>, StoreError>;

    /// Submission uuids already imported for a KoBo form.
    fn kobo_uuids(&self, form: &str) -> Result<HashSet<String>, StoreError>;
    fn record_kobo_uuids(&self, form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError>;

    /// Inserts many new reports. Backends with transactions store them all
    /// or none (one transaction, statements prepared once); this default
    /// inserts one at a time.
    fn insert_reports(&self, reports: &[Report]) -> Result<(), StoreError> {
        reports.iter().try_for_each(|r| self.insert_report(r))
    }

    /// Stores an import: its reports and their KoBo submission uuids, in one
    /// transaction where the backend has them (a killed import leaves nothing).
    fn import_reports(&self, reports: &[Report], form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
        self.insert_reports(reports)?;
        self.record_kobo_uuids(form, uuids)
    }

    /// Which of `references` are already used by stored reports.
    fn used_references(&self, references: &[Reference]) -> Result<HashSet<Reference>, StoreError> {
        let mut used = HashSet::new();
        for r in references {
            if self.report(r)?.is_some() {
                used.insert(r.clone());
            }
        }
        Ok(used)
    }

    /// Appends an analyst's correction of a report's tags (never updated or
    /// deleted) and sets the report's current dimensions and themes to it,
    /// in one transaction. An unknown report is `NotFound`.
    fn correct_tags(&self, correction: &TagCorrection) -> Result<(), StoreError>;
    /// Every stored correction, oldest first.
    fn tag_corrections(&self) -> Result<Vec<TagCorrection>, StoreError>;
}

/// An analyst confirming (same tags) or correcting a report's dimensions and
/// themes: who, when, what was there before and what is there now.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TagCorrection {
    pub report: Reference,
    pub user_id: String,
    pub at: Timestamp,
    pub previous_dimensions: Vec<String>,
    pub previous_themes: Vec<String>,
    pub dimensions: Vec<String>,
    pub themes: Vec<String>,
}

impl TagCorrection {
    /// The rule text a corrected report carries in its tags.
    pub fn rule(&self) -> String {
        format!("tags set by {} at {}", self.user_id, self.at)
    }
}

/// Who may correct tags: analysts and admins, in the report's area (the
/// policy's read check still applies, so a deactivated account is refused).
fn authorize_correction(user: &User, area: Option<&str>) -> Result<(), crate::auth::Denied> {
    authorize(user, Action::ReadReport, Resource::Area(area))?;
    match user.role {
        crate::auth::Role::Analyst | crate::auth::Role::Admin => Ok(()),
        role => Err(crate::auth::Denied { message: format!("a {role} cannot correct the dimensions of reports") }),
    }
}

/// An analyst confirms or corrects the dimensions (and, when given, the
/// themes) of report `reference`: checks the role, records the correction
/// with the previous tags, and updates the report. `themes: None` keeps them.
pub fn correct_report_tags(
    store: &dyn ReportStore,
    framework: &vitalcore_framework::Framework,
    user: &User,
    reference: &Reference,
    dimensions: Vec<String>,
    themes: Option<Vec<String>>,
    now: Timestamp,
) -> Result<TagCorrection, AccessError> {
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize_correction(user, report.place.area_pcode.as_deref())?;
    let correction = TagCorrection {
        report: reference.clone(),
        user_id: user.id.clone(),
        at: now,
        previous_dimensions: report.tags.dimensions.clone(),
        previous_themes: report.tags.themes.clone(),
        dimensions: normalise_tags(dimensions),
        themes: normalise_tags(themes.unwrap_or_else(|| report.tags.themes.clone())),
    };
    check_known(&correction.dimensions, &framework.dimensions, "dimension")?;
    check_known(&correction.themes, &framework.themes, "theme")?;
    store.correct_tags(&correction)?;
    Ok(correction)
}

/// Every id is one of the framework's, or the error lists the known ones.
fn check_known(
    ids: &[String],
    known: &[vitalcore_framework::taxonomy::Category],
    what: &str,
) -> Result<(), AccessError> {
    match ids.iter().find(|id| !known.iter().any(|k| &k.id == *id)) {
        None => Ok(()),
        Some(id) => Err(AccessError::UnknownTag(format!(
            "`{id}` is not a {what} of the framework; use one of: {}",
            known.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Trimmed, non-empty, de-duplicated, in the order given.
fn normalise_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags.into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

#[derive(Debug, Error, PartialEq)]
pub enum AccessError {
    #[error(transparent)]
    Denied(#[from] crate::auth::Denied),
    #[error("report {0} not found")]
    NotFound(String),
    #[error("report {0} has no contact")]
    NoContact(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// A correction names a dimension or theme the framework does not have.
    #[error("{0}")]
    UnknownTag(String),
}

impl AccessError {
    /// The HTTP status a server answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            AccessError::Denied(_) => 403,
            AccessError::NotFound(_) | AccessError::NoContact(_) => 404,
            AccessError::Workflow(_) | AccessError::Store(StoreError::Conflict(_)) => 409,
            AccessError::Crypto(crate::crypto::CryptoError::NoPurpose)
            | AccessError::UnknownTag(_)
            | AccessError::Outbox(_) => 422,
            AccessError::Crypto(_) | AccessError::Store(_) => 500,
        }
    }
}

/// The alert of a report, rebuilt from its stored log.
pub fn load_alert(store: &dyn ReportStore, report: &Report) -> Result<Alert, AccessError> {
    Ok(Alert::for_report(report).replay(store.steps(&report.reference)?)?)
}

/// One workflow step by `user` on the alert of report `reference`: checks
/// the permission for the step in the report's area, replays the log, applies
/// the step, appends it (a concurrent step makes this a conflict) with the
/// SMS its feedback queues for the reporter ([`crate::outbox`]), and keeps
/// the report's verification state in line.
pub fn act_on_alert(
    store: &dyn ReportStore,
    user: &User,
    reference: &Reference,
    step: Step,
    now: Timestamp,
) -> Result<Alert, AccessError> {
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize(user, Action::Alert(step.permission()), Resource::Area(report.place.area_pcode.as_deref()))?;
    let mut alert = load_alert(store, &report)?;
    let record = alert.apply(step, &user.id, now)?.clone();
    let messages = crate::outbox::drafts_for_step(&report, &record)?;
    if messages.is_empty() {
        store.append_step(&record)?;
    } else {
        store.append_step_with_messages(&record, &messages)?;
    }
    let verification = alert.status().verification();
    if verification != report.verification {
        store.set_verification(reference, verification)?;
    }
    Ok(alert)
}

/// Reads a report for `user`, applying the permission policy to its area.
/// A focal point asking for another community's report by id gets `Denied`
/// (a server may answer 404 instead, to not confirm the id exists).
pub fn report_for(store: &dyn ReportStore, user: &User, reference: &Reference) -> Result<Report, AccessError> {
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize(user, Action::ReadReport, Resource::Area(report.place.area_pcode.as_deref()))?;
    Ok(report)
}

/// Lists reports for `user`: a focal point sees only their community's
/// reports whatever the filter asks; roles that may not read reports get `Denied`.
pub fn reports_for(store: &dyn ReportStore, user: &User, filter: &ReportFilter) -> Result<Vec<Report>, AccessError> {
    let mut filter = filter.clone();
    if user.role == crate::auth::Role::FocalPoint {
        filter.area_pcode = user.community.clone();
    }
    authorize(user, Action::ReadReport, Resource::Area(filter.area_pcode.as_deref()))?;
    Ok(store.reports(&filter)?)
}

/// Decrypts a report's contact for `user`: checks permission, decrypts, and
/// writes the audit record before handing the contact out. If the audit
/// record cannot be stored, the contact is not returned.
pub fn reveal_contact(
    store: &dyn ReportStore,
    key: &ContactKey,
    user: &User,
    reference: &Reference,
    purpose: &str,
    now: Timestamp,
) -> Result<RevealedContact, AccessError> {
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize(user, Action::ReadContact, Resource::Area(report.place.area_pcode.as_deref()))?;
    let sealed = report.contact.as_ref().ok_or_else(|| AccessError::NoContact(reference.to_string()))?;
    let revealed = key.open(sealed, reference.as_str(), &user.accessor(), purpose, now)?;
    store.append_contact_read(&revealed.audit)?;
    Ok(revealed)
}

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
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
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
    Ok(())
}

impl ReportStore for MemoryStore {
    fn insert_report(&self, report: &Report) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.reports.contains_key(&report.reference) {
            return Err(StoreError::Conflict(format!("reference {} is already used", report.reference)));
        }
        inner.reports.insert(report.reference.clone(), report.clone());
        Ok(())
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
            crate::store_codec::check_next_change(c, i64::from(expected))?;
            next.insert(c.message_id, expected + 1);
        }
        for c in changes {
            if let Some(m) = inner.outbox.iter_mut().find(|m| m.id == c.message_id) {
                m.history.push(c.clone());
            }
        }
        Ok(())
    }

    fn save_user(&self, user: &User) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.users.values().any(|u| u.username == user.username && u.id != user.id) {
            return Err(StoreError::Conflict(format!("username `{}` is taken", user.username)));
        }
        inner.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.values().find(|u| u.username == username).cloned())
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

    fn save_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.lock().api_tokens.insert(token.token_hash, token.clone());
        Ok(())
    }

    fn api_token(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
        Ok(self.lock().api_tokens.get(hash).cloned())
    }

    fn revoke_api_token(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let t = inner.api_tokens.get_mut(hash).ok_or_else(|| StoreError::NotFound("API token".into()))?;
        t.revoked_at.get_or_insert(at);
        Ok(())
    }

    fn append_contact_read(&self, read: &ContactRead) -> Result<(), StoreError> {
        self.lock().contact_reads.push(read.clone());
        Ok(())
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
