//! The audit trail: verifying the hash chain against itself, against the
//! tables that hold the same facts and against a head written down earlier;
//! listing it; and recording what only the front ends see (logins and
//! failed ones, exports). The chain and its encoding are
//! `vitalcore_security::audit`; the store appends the entries of what it
//! writes itself (contact reads, alert steps, accounts, tokens) in the same
//! transaction as the fact.

use jiff::Timestamp;
use thiserror::Error;
use vitalcore_intake::workflow::StepRecord;
use vitalcore_security::audit::{
    AuditAction, AuditEntry, AuditEvent, AuditProblem, ChainVerifier, RowCheck, WrittenHead,
};
use vitalcore_security::auth::User;
use vitalcore_store::StoreError;
use vitalcore_store::reports::ReportStore;

/// The actor of what the command line does (it has no sign-in: whoever
/// can open the database acts).
pub const CLI_ACTOR: &str = "system:cli";
/// The actor of a refused sign-in on the web form (who tried is unknown).
pub const WEB_LOGIN_ACTOR: &str = "system:web-login";

/// Entries read from the store at a time.
const PAGE: usize = 1000;
/// Verifications restarted because the chain grew while it was checked.
const ATTEMPTS: usize = 3;

#[derive(Debug, Error, PartialEq)]
pub enum AuditError {
    /// A written-down head that cannot be read.
    #[error("{0}")]
    BadHead(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    /// Entries checked.
    pub checked: u64,
    /// The last entry's (seq, hash): what to write down.
    pub head: Option<(u64, String)>,
    /// Rows of `contact_reads` and `alert_steps` matched against the chain.
    pub contact_reads: usize,
    pub alert_steps: usize,
    /// Problems at an entry first, by entry number (the first is the first
    /// broken or missing link), then the others.
    pub problems: Vec<AuditProblem>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the whole chain: every entry hashes to its stored hash and links
/// to the one before, numbers run 1, 2, 3, ... without a gap; every row of
/// `contact_reads` and `alert_steps` has its entry and every entry of those
/// kinds its row; and `head` (`HASH` or `SEQ:HASH`, written down earlier),
/// when given, is still in the chain (which catches entries cut off the
/// end, or a chain rebuilt after a change).
///
/// A server may append while this runs; a check that found problems while
/// the chain grew is run again (a row and its entry are committed together,
/// but not read together), so what is reported was there on a quiet read.
pub fn verify(store: &dyn ReportStore, head: Option<&str>) -> Result<VerifyReport, AuditError> {
    let written: Option<WrittenHead> = head.map(|h| h.parse().map_err(AuditError::BadHead)).transpose()?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let before = store.audit_head()?.map(|e| e.seq);
        let report = verify_once(store, written.clone())?;
        let after = store.audit_head()?.map(|e| e.seq);
        if report.is_intact() || before == after || attempt == ATTEMPTS {
            return Ok(report);
        }
    }
}

fn verify_once(store: &dyn ReportStore, written: Option<WrittenHead>) -> Result<VerifyReport, StoreError> {
    let reads = store.contact_read_log()?;
    let steps = store.step_log()?;
    let (contact_reads, alert_steps) = (reads.len(), steps.len());
    let mut chain = ChainVerifier::new(written);
    let mut read_check =
        RowCheck::new(AuditAction::ContactRead, "contact_reads", reads.iter().map(AuditEvent::contact_read));
    let mut step_check =
        RowCheck::new(AuditAction::AlertStep, "alert_steps", steps.iter().map(StepRecord::audit_event));
    let mut after = 0;
    loop {
        let page = store.audit_entries(after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            chain.feed(e);
            read_check.feed(e);
            step_check.feed(e);
        }
    }
    let chain = chain.finish();
    let mut problems = chain.problems;
    problems.extend(read_check.finish());
    problems.extend(step_check.finish());
    // Stable: at an entry first, by number; the others after, as found.
    problems.sort_by_key(|p| p.seq().unwrap_or(u64::MAX));
    Ok(VerifyReport { checked: chain.checked, head: chain.head, contact_reads, alert_steps, problems })
}

/// The last `limit` entries of the chain, oldest first.
pub fn list(store: &dyn ReportStore, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let Some(head) = store.audit_head()? else { return Ok(Vec::new()) };
    let after = head.seq.saturating_sub(limit as u64);
    let mut out = Vec::with_capacity(limit.min(PAGE));
    while out.len() < limit {
        let from = out.last().map_or(after, |e: &AuditEntry| e.seq);
        let page = store.audit_entries(from, PAGE.min(limit - out.len()))?;
        if page.is_empty() {
            break;
        }
        out.extend(page);
    }
    Ok(out)
}

/// Records a sign-in of `user` (a web session opened).
pub fn record_login(store: &dyn ReportStore, user: &User, now: Timestamp) -> Result<AuditEntry, StoreError> {
    store.append_audit(&AuditEvent::new(now, user.id.clone(), AuditAction::Login, user.username.clone(), "web session"))
}

/// Records a refused sign-in with `username` as typed. The name is kept
/// only when it is an account's: a name that matches no account may be a
/// password typed in the wrong field, so it is not written anywhere.
pub fn record_login_failed(store: &dyn ReportStore, username: &str, now: Timestamp) -> Result<AuditEntry, StoreError> {
    let (subject, detail) = match store.user_by_username(username)? {
        Some(u) if u.active => (u.username, "wrong password"),
        Some(u) => (u.username, "account disabled"),
        None => (String::new(), "no such account"),
    };
    store.append_audit(&AuditEvent::new(now, WEB_LOGIN_ACTOR, AuditAction::LoginFailed, subject, detail))
}

/// Records that `actor` wrote `file` out of the system (`detail`: what it
/// holds, in a few words; never its content).
pub fn record_export(
    store: &dyn ReportStore,
    actor: &str,
    file: &str,
    detail: &str,
    now: Timestamp,
) -> Result<AuditEntry, StoreError> {
    store.append_audit(&AuditEvent::new(now, actor, AuditAction::Export, file, detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_security::auth::Role;
    use vitalcore_store::testing::MemoryStore;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_failed_login_keeps_the_name_only_of_an_existing_account() {
        let store = MemoryStore::new();
        let mut u = User::new("u-a", "amina", Role::Analyst, None, "h".into()).unwrap();
        store.save_user(&u, CLI_ACTOR).unwrap();
        let now = ts("2024-05-01T00:00:00Z");
        let e = record_login_failed(&store, "amina", now).unwrap();
        assert_eq!(
            (e.event.actor.as_str(), e.event.subject.as_str(), e.event.detail.as_str()),
            (WEB_LOGIN_ACTOR, "amina", "wrong password")
        );
        let e = record_login_failed(&store, "my secret password", now).unwrap();
        assert_eq!((e.event.subject.as_str(), e.event.detail.as_str()), ("", "no such account"));
        u.active = false;
        store.save_user(&u, CLI_ACTOR).unwrap();
        assert_eq!(record_login_failed(&store, "amina", now).unwrap().event.detail, "account disabled");
        let e = record_login(&store, &u, now).unwrap();
        assert_eq!((e.event.action, e.event.actor.as_str()), (AuditAction::Login, "u-a"));
        let report = verify(&store, None).unwrap();
        assert!(report.is_intact(), "{:?}", report.problems);
        assert_eq!(report.checked, 6);
    }

    #[test]
    fn list_gives_the_last_entries_oldest_first() {
        let store = MemoryStore::new();
        assert_eq!(list(&store, 10).unwrap(), vec![]);
        for i in 0..25 {
            record_export(&store, CLI_ACTOR, &format!("f{i}.csv"), "x", ts("2024-05-01T00:00:00Z")).unwrap();
        }
        let last = list(&store, 10).unwrap();
        assert_eq!(last.iter().map(|e| e.seq).collect::<Vec<_>>(), (16..=25).collect::<Vec<u64>>());
        assert_eq!(list(&store, 100).unwrap().len(), 25);
        assert_eq!(list(&store, 0).unwrap(), vec![]);
    }

    #[test]
    fn a_head_that_is_not_a_head_is_refused_before_anything_is_read() {
        let store = MemoryStore::new();
        assert!(matches!(verify(&store, Some("yesterday")), Err(AuditError::BadHead(_))));
    }
}
