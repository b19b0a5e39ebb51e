//! What a backend must persist of community intake, as one trait. The SQLite
//! and PostgreSQL backends implement [`ReportStore`] against their own
//! schemas; [`crate::testing::MemoryStore`] is the in-memory reference.
//!
//! Contract every backend keeps:
//! - reports are inserted once; a reference already used is a
//!   [`StoreError::Conflict`] (the caller draws a new reference and retries);
//! - the contact is stored only as `SealedContact::as_stored` text,
//!   never decrypted by the store;
//! - alert steps are append-only: a step whose `seq` is not the next one is a
//!   conflict (two people acting at once), and steps are never updated or deleted;
//! - password hashes and token hashes only, never tokens;
//! - disabling an account or changing its password ends its sessions and
//!   revokes its API tokens in the same transaction;
//! - every contact read is in the audit log before the contact is shown
//!   (`vitalcore_app::access::reveal_contact` does it in that order);
//! - KoBo submission uuids per form, so a re-import adds nothing;
//! - an SMS gateway's message id (Twilio `MessageSid`, RapidPro's message
//!   id), kept as the report's `source_id`, is stored at most once per
//!   gateway: a second report with channel `sms`, the same gateway and the
//!   same source id is a [`StoreError::Conflict`], and
//!   [`ReportStore::sms_report`] finds the first (a delivery repeated by the
//!   gateway, or replayed, becomes no second report);
//! - a step giving feedback by SMS is stored with the outbox message it
//!   queues, in one transaction; outbox messages are never changed or
//!   deleted, and their status history is append-only like alert steps (a
//!   change whose `seq` is not the next one is a conflict);
//! - the audit chain (`vitalcore_security::audit`): every write of a
//!   security-relevant fact appends its chain entry in the same transaction
//!   (a contact read, an alert step with or without its message, an account
//!   created or changed, an API token created or revoked), so a fact is
//!   never stored without its entry nor an entry without its fact; facts
//!   the store cannot see (logins, exports) come through
//!   [`ReportStore::append_audit`]. Appends are serialised: entry `n + 1`
//!   always links to entry `n`, whatever number of threads or processes
//!   write at once, and entries are never changed or deleted.

use crate::StoreError;
use jiff::Timestamp;
use std::collections::HashSet;
use vitalcore_intake::duplicates::DuplicateLink;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage};
use vitalcore_intake::report::{Reference, Report, Verification};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_security::audit::{AuditEntry, AuditEvent};
use vitalcore_security::auth::{ApiToken, Session, TokenHash, User};
use vitalcore_security::crypto::ContactRead;

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

/// Every backend also keeps the notification outbox and the on-call rota
/// ([`crate::notify::NotifyStore`]), in the same database.
pub trait ReportStore: crate::notify::NotifyStore + Send + Sync {
    fn insert_report(&self, report: &Report) -> Result<(), StoreError>;
    fn report(&self, reference: &Reference) -> Result<Option<Report>, StoreError>;
    /// Reports matching the filter, oldest received first.
    fn reports(&self, filter: &ReportFilter) -> Result<Vec<Report>, StoreError>;
    /// The report stored for an SMS gateway's message: channel `sms` with
    /// that `gateway` (`twilio`, `rapidpro`) and `message_id` as source id.
    fn sms_report(&self, gateway: &str, message_id: &str) -> Result<Option<Report>, StoreError>;
    fn set_verification(&self, reference: &Reference, state: Verification) -> Result<(), StoreError>;
    /// Adds links (a link to a report already linked replaces the old score).
    fn add_duplicate_links(&self, reference: &Reference, links: &[DuplicateLink]) -> Result<(), StoreError>;
    /// Adds the links of many reports, in one transaction where the backend
    /// has them (the links back from older reports to new likely
    /// duplicates, written in batches); a report that does not exist is
    /// skipped. This default adds them one report at a time.
    fn add_duplicate_links_many(&self, links: &[(Reference, Vec<DuplicateLink>)]) -> Result<(), StoreError> {
        for (reference, l) in links {
            match self.add_duplicate_links(reference, l) {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

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

    /// Creates or updates an account; `by` (a user id or `system:...`) is
    /// who did it, recorded in the audit chain with what changed (created,
    /// role, username/community, password, disabled or enabled).
    fn save_user(&self, user: &User, by: &str) -> Result<(), StoreError>;
    fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// Every account, by username.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Saves an existing account (disabled, or with a new password hash),
    /// deletes every session of theirs and revokes every API token of theirs
    /// not yet revoked (at `at`), in one transaction: the next request with
    /// any of them is refused. An unknown account is `NotFound` and nothing
    /// changes.
    fn save_user_ending_access(&self, user: &User, at: Timestamp, by: &str) -> Result<AccessEnded, StoreError>;

    fn save_session(&self, session: &Session) -> Result<(), StoreError>;
    fn session(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError>;
    fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError>;
    /// The sessions of one account, oldest first.
    fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>, StoreError>;
    /// Deletes every session of one account; returns how many there were.
    fn delete_sessions_of(&self, user_id: &str) -> Result<usize, StoreError>;
    /// Records a request seen with a session (an unknown session is no error).
    fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError>;
    /// Deletes the sessions past their end at `now` or last seen before
    /// `idle_since`; returns how many.
    fn delete_expired_sessions(&self, now: Timestamp, idle_since: Timestamp) -> Result<usize, StoreError>;

    /// Saves an API token (a new one is chained as created by `by`, one
    /// saved revoked as revoked).
    fn save_api_token(&self, token: &ApiToken, by: &str) -> Result<(), StoreError>;
    fn api_token(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError>;
    /// Revokes a token at `at` (the first revocation stays; only it is chained).
    fn revoke_api_token(&self, hash: &TokenHash, at: Timestamp, by: &str) -> Result<(), StoreError>;
    /// The API tokens selected, revoked and expired ones included, oldest first.
    fn api_tokens(&self, which: &TokenSelector) -> Result<Vec<ApiToken>, StoreError>;
    /// Revokes the selected tokens not yet revoked, in one transaction;
    /// returns them as revoked (a token revoked before keeps its time and is
    /// not returned); each revocation is chained as done by `by`.
    fn revoke_api_tokens(&self, which: &TokenSelector, at: Timestamp, by: &str) -> Result<Vec<ApiToken>, StoreError>;

    /// Logs a contact read, with its chain entry.
    fn append_contact_read(&self, read: &ContactRead) -> Result<(), StoreError>;
    fn contact_reads(&self, reference: &Reference) -> Result<Vec<ContactRead>, StoreError>;

    /// Appends an event the store cannot see for itself (a login, a failed
    /// one, an export) to the audit chain; returns its entry.
    fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError>;
    /// Chain entries with `seq > after_seq`, in order, at most `limit`.
    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
    /// The last entry of the chain (`None` while it is empty).
    fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError>;
    /// Every logged contact read of every report, in the order logged (for
    /// matching the log against the chain).
    fn contact_read_log(&self) -> Result<Vec<ContactRead>, StoreError>;
    /// Every alert step of every alert (for matching against the chain).
    fn step_log(&self) -> Result<Vec<StepRecord>, StoreError>;

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

    /// The reference space of this node (the first symbol of the references
    /// drawn here, see `crate::sync`), once it is part of a mission's
    /// synchronisation; `None`: references are drawn from the whole space.
    fn reference_space(&self) -> Result<Option<u8>, StoreError> {
        Ok(None)
    }
}

/// Which API tokens: an account's, a partner's, or one by its public id
/// ([`TokenHash::public_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSelector {
    User(String),
    Partner(String),
    PublicId(String),
}

impl TokenSelector {
    pub fn matches(&self, token: &ApiToken) -> bool {
        match self {
            TokenSelector::User(id) => &token.user_id == id,
            TokenSelector::Partner(p) => &token.partner == p,
            TokenSelector::PublicId(id) => {
                TokenHash::public_id_bytes(id).is_some_and(|prefix| token.token_hash.0.starts_with(&prefix))
            }
        }
    }
}

/// What ending an account's access did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessEnded {
    pub sessions_ended: usize,
    pub tokens_revoked: usize,
}

/// Oldest first, ties by hash: the order sessions and tokens are listed in.
pub fn sort_by_creation<T>(items: &mut [T], key: impl Fn(&T) -> (Timestamp, TokenHash)) {
    items.sort_by(|a, b| {
        let (ta, ha) = key(a);
        let (tb, hb) = key(b);
        ta.cmp(&tb).then_with(|| ha.0.cmp(&hb.0))
    });
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
