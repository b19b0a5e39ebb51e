//! The audit trail of security-relevant facts, as a hash chain.
//!
//! Every fact that matters to the people who reported (a contact read, an
//! alert step, a login or a failed one, an account or token created,
//! changed, disabled or revoked, an export) is an [`AuditEvent`]. The store
//! appends each as an [`AuditEntry`] numbered 1, 2, 3, ... whose `hash` is
//! SHA-256 over the entry and the hash of the entry before it, so that
//! changing, removing or reordering any entry breaks every link after it.
//! [`ChainVerifier`] checks a chain, [`RowCheck`] matches the chain against
//! the tables that hold the same facts (the contact audit log, the alert
//! steps), and [`WrittenHead`] is a head an operator wrote down elsewhere.
//!
//! What the chain does and does not prove: anyone who can write the database
//! and knows this encoding (it is public, so that outside tools can verify)
//! can rebuild a consistent chain after changing it. What they cannot do is
//! make an old head come back: a head written down somewhere else (paper,
//! another machine) before the change is no longer in the rebuilt chain. So
//! the chain turns "no trace" into "detectable from the last written-down
//! head on", and the cross-check with the tables catches a row deleted from
//! behind the store's back even when the chain itself was left alone.
//!
//! # The encoding, version 1 (`vitalcore-audit-v1`)
//!
//! An entry's hash is the lowercase hex SHA-256 of eight netstrings
//! (`<length in bytes, decimal>:<UTF-8 bytes>,`), in this order:
//!
//! 1. the literal `vitalcore-audit-v1`;
//! 2. `seq`, decimal, no leading zeros (the first entry is 1);
//! 3. `at`, RFC 3339 in UTC exactly as stored: `YYYY-MM-DDTHH:MM:SS`, then,
//!    when the time is not a whole second, `.` and 1-9 digits without
//!    trailing zeros, then `Z` (e.g. `2024-05-01T10:00:00.25Z`);
//! 4. `actor`: a user id (`u-amina`) or `system:<what>`;
//! 5. `action`: one of [`AuditAction`]'s names (`contact_read`, ...);
//! 6. `subject`: a report reference, a username, a file name (may be empty);
//! 7. `detail`: short text (may be empty);
//! 8. `prev_hash`: the previous entry's `hash`, 64 lowercase hex digits; 64
//!    zeros ([`GENESIS`]) for entry 1.
//!
//! In Python:
//!
//! ```text
//! import hashlib
//! def ns(s): b = s.encode(); return str(len(b)).encode() + b":" + b + b","
//! def entry_hash(seq, at, actor, action, subject, detail, prev_hash):
//!     fields = ["vitalcore-audit-v1", str(seq), at, actor, action, subject, detail, prev_hash]
//!     return hashlib.sha256(b"".join(ns(f) for f in fields)).hexdigest()
//! ```
//!
//! The columns of the `audit_log` table (both backends) are these fields
//! plus `hash`; an entry is intact when its `hash` is the hash of its fields
//! and its `prev_hash` is the `hash` of entry `seq - 1`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{ApiToken, User};
use crate::crypto::ContactRead;

/// The first part of every hashed entry: which encoding it uses.
pub const ENCODING: &str = "vitalcore-audit-v1";
/// The `prev_hash` of entry 1.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Details longer than this many characters are cut (and end with `...`).
pub const MAX_DETAIL_CHARS: usize = 200;

/// What happened. The names (`as_str`) are what is stored and hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A reporter's contact was decrypted (subject: the report).
    ContactRead,
    /// An alert moved a step (subject: the report; detail `#seq step`).
    AlertStep,
    /// A successful sign-in (subject: the username).
    Login,
    /// A refused sign-in (subject: the username when the account exists).
    LoginFailed,
    /// An API token was created (subject: the user it acts as).
    TokenCreated,
    /// An API token was revoked.
    TokenRevoked,
    /// An account was created (subject: the username; detail: role).
    UserCreated,
    /// An account's role changed (detail `old -> new`).
    RoleChanged,
    /// An account's username, community or display name changed.
    UserChanged,
    UserDisabled,
    UserEnabled,
    /// An account's password hash changed (never the hash or the password).
    PasswordChanged,
    /// Data left the system as a file (subject: the file).
    Export,
    /// The chain started on a database that already held audited rows
    /// (written once, by the migration that created the chain).
    ChainStarted,
    /// A notification to a duty officer or a webhook was sent or failed for
    /// good (subject: the delivery; never the message's recipient address).
    Notification,
    /// Someone was put on call (subject: the user; detail: area, role, window).
    OnCallChanged,
}

impl AuditAction {
    pub const ALL: [AuditAction; 16] = [
        AuditAction::ContactRead,
        AuditAction::AlertStep,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
        AuditAction::UserCreated,
        AuditAction::RoleChanged,
        AuditAction::UserChanged,
        AuditAction::UserDisabled,
        AuditAction::UserEnabled,
        AuditAction::PasswordChanged,
        AuditAction::Export,
        AuditAction::ChainStarted,
        AuditAction::Notification,
        AuditAction::OnCallChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ContactRead => "contact_read",
            AuditAction::AlertStep => "alert_step",
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::UserCreated => "user_created",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::UserChanged => "user_changed",
            AuditAction::UserDisabled => "user_disabled",
            AuditAction::UserEnabled => "user_enabled",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::Export => "export",
            AuditAction::ChainStarted => "chain_started",
            AuditAction::Notification => "notification",
            AuditAction::OnCallChanged => "oncall_changed",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = String;
    fn from_str(s: &str) -> Result<AuditAction, String> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| format!("`{s}` is not an audit action"))
    }
}

/// One security-relevant fact, before it has a place in the chain. Never
/// holds a contact, a password, a token or a report's text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: Timestamp,
    /// A user id, or `system:<what>` (the CLI, a migration, a web form).
    pub actor: String,
    pub action: AuditAction,
    /// What it was done to: a report reference, a username, a file name.
    pub subject: String,
    pub detail: String,
}

impl AuditEvent {
    /// An event; `detail` is cut to [`MAX_DETAIL_CHARS`] characters.
    pub fn new(
        at: Timestamp,
        actor: impl Into<String>,
        action: AuditAction,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) -> AuditEvent {
        AuditEvent { at, actor: actor.into(), action, subject: subject.into(), detail: short(detail.into()) }
    }

    /// The entry of a contact read: who, which report, when, in which role
    /// and why (the purpose as given).
    pub fn contact_read(read: &ContactRead) -> AuditEvent {
        AuditEvent::new(
            read.at,
            read.user_id.clone(),
            AuditAction::ContactRead,
            read.report.clone(),
            format!("{}: {}", read.role, read.purpose),
        )
    }

    /// The entry of an alert step: `#seq name` (the step's notes stay in
    /// the step log; the chain holds who moved which alert, how and when).
    pub fn alert_step(alert: &str, seq: u32, step_name: &str, user_id: &str, at: Timestamp) -> AuditEvent {
        AuditEvent::new(at, user_id, AuditAction::AlertStep, alert, format!("#{seq} {step_name}"))
    }

    /// What saving `after` over `before` (`None`: a new account) changed,
    /// one event per kind of change, by `actor`. Nothing when nothing changed.
    pub fn user_saved(before: Option<&User>, after: &User, actor: &str, at: Timestamp) -> Vec<AuditEvent> {
        let event = |action, detail: String| AuditEvent::new(at, actor, action, after.username.clone(), detail);
        let community = |u: &User| u.community.clone().unwrap_or_else(|| "none".into());
        let Some(before) = before else {
            let mut detail = format!("role {}", after.role);
            if let Some(c) = &after.community {
                detail.push_str(&format!(", community {c}"));
            }
            let mut out = vec![event(AuditAction::UserCreated, detail)];
            if !after.active {
                out.push(event(AuditAction::UserDisabled, String::new()));
            }
            return out;
        };
        let mut out = Vec::new();
        if before.role != after.role {
            out.push(event(AuditAction::RoleChanged, format!("{} -> {}", before.role, after.role)));
        }
        let mut changed = Vec::new();
        if before.username != after.username {
            changed.push(format!("username {} -> {}", before.username, after.username));
        }
        if before.community != after.community {
            changed.push(format!("community {} -> {}", community(before), community(after)));
        }
        if before.display_name != after.display_name {
            changed.push("display name changed".to_string());
        }
        if !changed.is_empty() {
            out.push(event(AuditAction::UserChanged, changed.join("; ")));
        }
        if before.password_hash != after.password_hash {
            out.push(event(AuditAction::PasswordChanged, String::new()));
        }
        match (before.active, after.active) {
            (true, false) => out.push(event(AuditAction::UserDisabled, String::new())),
            (false, true) => out.push(event(AuditAction::UserEnabled, String::new())),
            _ => {}
        }
        out
    }

    /// What saving API token `after` over `before` (`None`: new) recorded:
    /// created and/or revoked. The token is named by its public id (never
    /// the token).
    pub fn token_saved(before: Option<&ApiToken>, after: &ApiToken, actor: &str, at: Timestamp) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        if before.is_none() {
            out.push(AuditEvent::new(
                at,
                actor,
                AuditAction::TokenCreated,
                after.user_id.clone(),
                format!("partner {}; token {}", after.partner, token_label(after)),
            ));
        }
        if let (None, Some(revoked_at)) = (before.and_then(|b| b.revoked_at), after.revoked_at) {
            out.push(AuditEvent::token_revoked(after, actor, revoked_at));
        }
        out
    }

    /// A token revoked at `at` by `actor`.
    pub fn token_revoked(token: &ApiToken, actor: &str, at: Timestamp) -> AuditEvent {
        AuditEvent::new(
            at,
            actor,
            AuditAction::TokenRevoked,
            token.user_id.clone(),
            format!("partner {}; token {}", token.partner, token_label(token)),
        )
    }
}

/// The token's public id, as `vitalcore users tokens` lists it (never the token).
fn token_label(token: &ApiToken) -> String {
    token.public_id()
}

fn short(text: String) -> String {
    if text.chars().count() <= MAX_DETAIL_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_DETAIL_CHARS - 3).collect();
    cut.push_str("...");
    cut
}

/// An event in its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    #[serde(flatten)]
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The entry that follows `head` (`None`: the chain is empty).
    pub fn after(head: Option<(u64, &str)>, event: AuditEvent) -> AuditEntry {
        let (seq, prev_hash) = match head {
            Some((seq, hash)) => (seq + 1, hash.to_string()),
            None => (1, GENESIS.to_string()),
        };
        let hash = entry_hash(seq, &event, &prev_hash);
        AuditEntry { seq, event, prev_hash, hash }
    }

    /// The hash its fields give (equal to `hash` when intact).
    pub fn computed_hash(&self) -> String {
        entry_hash(self.seq, &self.event, &self.prev_hash)
    }
}

/// The text of a time as hashed and stored (see the module documentation).
pub fn time_text(at: Timestamp) -> String {
    at.to_string()
}

/// The bytes hashed for an entry: the eight netstrings of the module
/// documentation.
pub fn canonical_encoding(seq: u64, event: &AuditEvent, prev_hash: &str) -> Vec<u8> {
    let seq = seq.to_string();
    let at = time_text(event.at);
    let fields: [&str; 8] =
        [ENCODING, &seq, &at, &event.actor, event.action.as_str(), &event.subject, &event.detail, prev_hash];
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 8).sum());
    for f in fields {
        out.extend_from_slice(f.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(f.as_bytes());
        out.push(b',');
    }
    out
}

/// Lowercase hex SHA-256 of [`canonical_encoding`].
pub fn entry_hash(seq: u64, event: &AuditEvent, prev_hash: &str) -> String {
    hex(&Sha256::digest(canonical_encoding(seq, event, prev_hash)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A chain head an operator wrote down: `HASH` or `SEQ:HASH`, the hash
/// whole or its first 16 or more hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenHead {
    pub seq: Option<u64>,
    /// Lowercase hex, 16-64 digits.
    pub hash_prefix: String,
}

/// Fewest hex digits of a written-down head: 64 bits, far beyond what
/// anyone can match by rebuilding a chain.
pub const MIN_HEAD_DIGITS: usize = 16;

impl FromStr for WrittenHead {
    type Err = String;
    fn from_str(text: &str) -> Result<WrittenHead, String> {
        let text = text.trim();
        let (seq, hash) = match text.split_once(':') {
            Some((seq, hash)) => {
                let seq = seq.trim().trim_start_matches('#');
                let seq = seq.parse::<u64>().map_err(|_| {
                    format!("`{text}`: before the `:` comes the entry number, e.g. 42:3f9c0e7a1b2d4c5e...")
                })?;
                (Some(seq), hash.trim())
            }
            None => (None, text),
        };
        let ok = (MIN_HEAD_DIGITS..=64).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(format!(
                "`{text}` is not a chain head: give the hash `vitalcore audit verify` printed ({MIN_HEAD_DIGITS} to \
                 64 hex digits), optionally after its entry number and a colon (42:3f9c...)"
            ));
        }
        Ok(WrittenHead { seq, hash_prefix: hash.to_ascii_lowercase() })
    }
}

impl fmt::Display for WrittenHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "#{seq} {}", self.hash_prefix),
            None => f.write_str(&self.hash_prefix),
        }
    }
}

impl WrittenHead {
    fn matches(&self, entry: &AuditEntry) -> bool {
        entry.hash.starts_with(&self.hash_prefix) && self.seq.is_none_or(|s| s == entry.seq)
    }
}

/// What is wrong with a chain, or with the tables next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblem {
    /// Entries `seq` up to `next - 1` are not there (`next`: the entry that
    /// follows the gap, `None` when the chain ends).
    Missing { seq: u64, next: u64 },
    /// An entry number repeats or goes back.
    OutOfOrder { seq: u64, after: u64 },
    /// The entry's fields do not hash to its stored hash: changed after it
    /// was written.
    Altered { seq: u64 },
    /// The entry's `prev_hash` is not the hash of the entry before it: an
    /// entry was replaced, or the chain rebuilt from there.
    BrokenLink { seq: u64 },
    /// The written-down head is not in the chain.
    HeadNotFound { head: WrittenHead, last_seq: Option<u64> },
    /// A chain entry of a table-backed kind has no row in that table.
    EntryWithoutRow { seq: u64, table: &'static str, event: AuditEvent },
    /// A row of an audited table has no entry in the chain.
    RowWithoutEntry { table: &'static str, event: AuditEvent },
}

impl AuditProblem {
    /// The entry the problem is at, when it is at one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            AuditProblem::Missing { seq, .. }
            | AuditProblem::OutOfOrder { seq, .. }
            | AuditProblem::Altered { seq }
            | AuditProblem::BrokenLink { seq }
            | AuditProblem::EntryWithoutRow { seq, .. } => Some(*seq),
            AuditProblem::HeadNotFound { .. } | AuditProblem::RowWithoutEntry { .. } => None,
        }
    }
}

fn describe(e: &AuditEvent) -> String {
    let subject = if e.subject.is_empty() { String::new() } else { format!(" on {}", e.subject) };
    format!("{} by {}{subject} at {}", e.action, e.actor, time_text(e.at))
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditProblem::Missing { seq, next } => {
                let which = if *seq + 1 == *next {
                    format!("entry #{seq} is missing")
                } else {
                    format!("entries #{seq} to #{} are missing", next - 1)
                };
                if *seq == 1 {
                    write!(f, "{which}: the chain starts at #{next}")
                } else {
                    write!(f, "{which}: the chain goes from #{} to #{next}", seq - 1)
                }
            }
            AuditProblem::OutOfOrder { seq, after } => {
                write!(f, "entry #{seq} comes after #{after}: entries are repeated or out of order")
            }
            AuditProblem::Altered { seq } => {
                write!(f, "entry #{seq} was altered: its fields no longer give its hash (changed after it was written)")
            }
            AuditProblem::BrokenLink { seq: 1 } => {
                write!(f, "entry #1 does not start the chain: its prev_hash is not {GENESIS}")
            }
            AuditProblem::BrokenLink { seq } => write!(
                f,
                "entry #{seq} does not follow #{}: its prev_hash is not the hash of #{} (an entry was replaced or \
                 the chain rebuilt)",
                seq - 1,
                seq - 1
            ),
            AuditProblem::HeadNotFound { head, last_seq } => {
                let end = match last_seq {
                    Some(s) => format!("the chain ends at #{s}"),
                    None => "the chain is empty".to_string(),
                };
                write!(
                    f,
                    "the written-down head {head} is not in the chain ({end}): entries were removed or the chain \
                     was rebuilt since it was written down"
                )
            }
            AuditProblem::EntryWithoutRow { seq, table, event } => write!(
                f,
                "entry #{seq} ({}) has no row in {table}: the row was deleted or changed behind the store's back",
                describe(event)
            ),
            AuditProblem::RowWithoutEntry { table, event } => write!(
                f,
                "a row of {table} ({}) has no entry in the chain: it was added or changed behind the store's back",
                describe(event)
            ),
        }
    }
}

/// Checks a chain entry by entry, in `seq` order as the store lists them,
/// without holding it in memory. Feed every entry, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct ChainVerifier {
    last: Option<(u64, String)>,
    checked: u64,
    head: Option<WrittenHead>,
    head_found: bool,
    problems: Vec<AuditProblem>,
}

/// What [`ChainVerifier::finish`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub checked: u64,
    /// The last entry's (seq, hash).
    pub head: Option<(u64, String)>,
    /// In the order met, so the first is the first broken or missing link.
    pub problems: Vec<AuditProblem>,
}

impl ChainVerifier {
    /// `head`: a head written down earlier, which must still be in the chain.
    pub fn new(head: Option<WrittenHead>) -> ChainVerifier {
        ChainVerifier { last: None, checked: 0, head, head_found: false, problems: Vec::new() }
    }

    pub fn feed(&mut self, entry: &AuditEntry) {
        self.checked += 1;
        let (expected_seq, expected_prev) = match &self.last {
            Some((seq, hash)) => (seq + 1, hash.as_str()),
            None => (1, GENESIS),
        };
        if entry.seq < expected_seq {
            self.problems.push(AuditProblem::OutOfOrder { seq: entry.seq, after: expected_seq - 1 });
        } else if entry.seq > expected_seq {
            self.problems.push(AuditProblem::Missing { seq: expected_seq, next: entry.seq });
        } else if entry.prev_hash != expected_prev {
            self.problems.push(AuditProblem::BrokenLink { seq: entry.seq });
        }
        if entry.computed_hash() != entry.hash {
            self.problems.push(AuditProblem::Altered { seq: entry.seq });
        }
        if self.head.as_ref().is_some_and(|h| h.matches(entry)) {
            self.head_found = true;
        }
        // The next entry must follow this one as stored: a break is
        // reported once, where it is, not again at every later entry.
        self.last = Some((entry.seq.max(self.last.as_ref().map_or(0, |l| l.0)), entry.hash.clone()));
    }

    pub fn finish(mut self) -> ChainReport {
        if let Some(head) = self.head.take().filter(|_| !self.head_found) {
            self.problems.push(AuditProblem::HeadNotFound { head, last_seq: self.last.as_ref().map(|l| l.0) });
        }
        ChainReport { checked: self.checked, head: self.last, problems: self.problems }
    }
}

/// Checks a whole chain held in memory (see [`ChainVerifier`]).
pub fn verify_chain(entries: &[AuditEntry], head: Option<WrittenHead>) -> ChainReport {
    let mut v = ChainVerifier::new(head);
    entries.iter().for_each(|e| v.feed(e));
    v.finish()
}

/// Matches the chain's entries of one action against the rows of the table
/// that holds the same facts: every row has its entry and every entry its
/// row (as many of each, when two are alike). A row deleted after its
/// table's append-only trigger was dropped is then caught even though the
/// chain is intact, and so is a row changed or added behind the store's back.
#[derive(Debug)]
pub struct RowCheck {
    action: AuditAction,
    table: &'static str,
    rows: HashMap<AuditEvent, usize>,
    problems: Vec<AuditProblem>,
}

impl RowCheck {
    /// `rows`: the table's rows, each as the event the store chained for it.
    pub fn new(action: AuditAction, table: &'static str, rows: impl IntoIterator<Item = AuditEvent>) -> RowCheck {
        let mut counts: HashMap<AuditEvent, usize> = HashMap::new();
        for r in rows {
            *counts.entry(r).or_default() += 1;
        }
        RowCheck { action, table, rows: counts, problems: Vec::new() }
    }

    pub fn feed(&mut self, entry: &AuditEntry) {
        if entry.event.action != self.action {
            return;
        }
        match self.rows.get_mut(&entry.event) {
            Some(n) if *n > 0 => *n -= 1,
            _ => self.problems.push(AuditProblem::EntryWithoutRow {
                seq: entry.seq,
                table: self.table,
                event: entry.event.clone(),
            }),
        }
    }

    /// Entries without rows (in chain order), then rows without entries
    /// (oldest first).
    pub fn finish(self) -> Vec<AuditProblem> {
        let mut left: Vec<(AuditEvent, usize)> = self.rows.into_iter().filter(|(_, n)| *n > 0).collect();
        left.sort_by(|a, b| (a.0.at, &a.0.subject, &a.0.actor).cmp(&(b.0.at, &b.0.subject, &b.0.actor)));
        let table = self.table;
        let mut problems = self.problems;
        for (event, n) in left {
            for _ in 0..n {
                problems.push(AuditProblem::RowWithoutEntry { table, event: event.clone() });
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, TokenHash};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn event(i: u32) -> AuditEvent {
        AuditEvent::new(
            ts("2024-05-01T10:00:00Z") + jiff::SignedDuration::from_secs(i64::from(i)),
            format!("u-{i}"),
            AuditAction::Login,
            "amina",
            "web session",
        )
    }

    fn chain(n: u32) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| (e.seq, e.hash.as_str()));
            out.push(AuditEntry::after(head, event(i)));
        }
        out
    }

    fn head_of(entries: &[AuditEntry], seq: u64) -> WrittenHead {
        let e = &entries[seq as usize - 1];
        format!("{}:{}", e.seq, e.hash).parse().unwrap()
    }

    /// The documented encoding, with a known answer an outside tool can
    /// reproduce (the Python of the module documentation gives the same).
    #[test]
    fn the_encoding_is_the_documented_netstrings_and_hashes_to_the_known_answer() {
        let e = AuditEvent::new(
            ts("2024-05-01T10:00:00.25Z"),
            "u-amina",
            AuditAction::ContactRead,
            "VC-7K3Q-9MX",
            "responder: call back",
        );
        let bytes = canonical_encoding(1, &e, GENESIS);
        let expected = format!(
            "18:vitalcore-audit-v1,1:1,23:2024-05-01T10:00:00.25Z,7:u-amina,12:contact_read,11:VC-7K3Q-9MX,\
             20:responder: call back,64:{GENESIS},"
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        assert_eq!(
            entry_hash(1, &e, GENESIS),
            "b2e0fbd14ebe5ff89f9dee0c582f4a610ecc919bb0aefe3fd952a658754f22f0",
            "run the Python of the module documentation on this entry to get this hash"
        );
    }

    #[test]
    fn times_are_written_as_documented() {
        for (t, text) in [
            ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
            ("2024-05-01T10:00:00.250Z", "2024-05-01T10:00:00.25Z"),
            ("2024-05-01T12:00:00.000000123+02:00", "2024-05-01T10:00:00.000000123Z"),
        ] {
            assert_eq!(time_text(ts(t)), text);
        }
    }

    #[test]
    fn an_intact_chain_verifies_and_names_its_head() {
        let entries = chain(5);
        assert_eq!(entries[0].prev_hash, GENESIS);
        assert!(entries.windows(2).all(|w| w[1].prev_hash == w[0].hash && w[1].seq == w[0].seq + 1));
        let report = verify_chain(&entries, Some(head_of(&entries, 3)));
        assert_eq!(report.problems, vec![]);
        assert_eq!(report.checked, 5);
        assert_eq!(report.head, Some((5, entries[4].hash.clone())));
        assert_eq!(verify_chain(&[], None), ChainReport { checked: 0, head: None, problems: vec![] });
    }

    #[test]
    fn an_altered_field_is_named_by_its_entry() {
        for alter in 0..4 {
            let mut entries = chain(5);
            let e = &mut entries[2].event;
            match alter {
                0 => e.actor = "u-someone-else".into(),
                1 => e.detail.push('!'),
                2 => e.at += jiff::SignedDuration::from_secs(1),
                _ => e.action = AuditAction::Export,
            }
            assert_eq!(verify_chain(&entries, None).problems, vec![AuditProblem::Altered { seq: 3 }], "{alter}");
        }
        // Its stored hash recomputed to match: the next link breaks instead.
        let mut entries = chain(5);
        entries[2].event.actor = "u-someone-else".into();
        entries[2].hash = entries[2].computed_hash();
        assert_eq!(verify_chain(&entries, None).problems, vec![AuditProblem::BrokenLink { seq: 4 }]);
    }

    #[test]
    fn a_deleted_middle_entry_is_named_as_missing() {
        let mut entries = chain(6);
        entries.remove(2);
        let problems = verify_chain(&entries, None).problems;
        assert_eq!(problems, vec![AuditProblem::Missing { seq: 3, next: 4 }]);
        assert_eq!(problems[0].to_string(), "entry #3 is missing: the chain goes from #2 to #4");
        // Renumbered to hide the gap: the link breaks there.
        for e in &mut entries[2..] {
            e.seq -= 1;
        }
        let problems = verify_chain(&entries, None).problems;
        assert_eq!(problems.first(), Some(&AuditProblem::BrokenLink { seq: 3 }), "{problems:?}");
        // Two gone at the start.
        let entries = chain(4);
        let problems = verify_chain(&entries[2..], None).problems;
        assert_eq!(problems, vec![AuditProblem::Missing { seq: 1, next: 3 }]);
        assert_eq!(problems[0].to_string(), "entries #1 to #2 are missing: the chain starts at #3");
    }

    #[test]
    fn reordered_entries_are_caught() {
        let mut entries = chain(5);
        entries.swap(1, 2);
        let problems = verify_chain(&entries, None).problems;
        assert_eq!(problems.first(), Some(&AuditProblem::Missing { seq: 2, next: 3 }), "{problems:?}");
        assert!(problems.contains(&AuditProblem::OutOfOrder { seq: 2, after: 3 }), "{problems:?}");
        // Swapped contents under the same numbers: each moved entry is altered.
        let mut entries = chain(5);
        let (a, b) = (entries[1].event.clone(), entries[2].event.clone());
        entries[1].event = b;
        entries[2].event = a;
        let problems = verify_chain(&entries, None).problems;
        assert_eq!(problems, vec![AuditProblem::Altered { seq: 2 }, AuditProblem::Altered { seq: 3 }]);
    }

    #[test]
    fn truncation_is_caught_only_against_a_written_down_head() {
        let entries = chain(6);
        let written = head_of(&entries, 6);
        let cut = &entries[..4];
        assert_eq!(verify_chain(cut, None).problems, vec![], "a cut chain is a valid chain on its own");
        let problems = verify_chain(cut, Some(written.clone())).problems;
        assert_eq!(problems, vec![AuditProblem::HeadNotFound { head: written, last_seq: Some(4) }]);
        assert!(problems[0].to_string().contains("not in the chain (the chain ends at #4)"), "{}", problems[0]);
        // A head written down before the cut still verifies, and a prefix is enough.
        let prefix: WrittenHead = entries[2].hash[..16].parse().unwrap();
        assert_eq!(verify_chain(cut, Some(prefix)).problems, vec![]);
        // A rebuilt chain (same length, one entry changed and every hash
        // recomputed) verifies alone, but not against the written-down head.
        let mut rebuilt: Vec<AuditEntry> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let mut ev = e.event.clone();
            if i == 1 {
                ev.detail = "nothing to see".into();
            }
            let head = rebuilt.last().map(|e| (e.seq, e.hash.as_str()));
            rebuilt.push(AuditEntry::after(head, ev));
        }
        assert_eq!(verify_chain(&rebuilt, None).problems, vec![]);
        let problems = verify_chain(&rebuilt, Some(head_of(&entries, 6))).problems;
        assert!(matches!(problems[..], [AuditProblem::HeadNotFound { .. }]), "{problems:?}");
    }

    #[test]
    fn written_heads_parse_with_or_without_their_number() {
        let hash = "3F9C0E7A1B2D4C5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6";
        assert_eq!(hash.parse::<WrittenHead>().unwrap(), WrittenHead { seq: None, hash_prefix: hash.to_lowercase() });
        assert_eq!(format!("#42:{}", &hash[..16]).parse::<WrittenHead>().unwrap().seq, Some(42));
        for bad in ["", "abc", "42:", "x:3f9c0e7a1b2d4c5e", "3f9c0e7a1b2d4c5g"] {
            assert!(bad.parse::<WrittenHead>().is_err(), "{bad}");
        }
        // The number must match too.
        let entries = chain(3);
        let wrong: WrittenHead = format!("2:{}", entries[2].hash).parse().unwrap();
        assert!(!verify_chain(&entries, Some(wrong)).problems.is_empty());
    }

    #[test]
    fn rows_and_entries_must_match_one_for_one() {
        let read = |purpose: &str| ContactRead {
            report: "VC-7K3Q-9MX".into(),
            user_id: "u-r1".into(),
            role: Role::Responder,
            purpose: purpose.into(),
            at: ts("2024-05-02T00:00:00Z"),
        };
        let reads = [read("call back"), read("call back"), read("follow up")];
        let mut entries: Vec<AuditEntry> = Vec::new();
        for e in reads.iter().map(AuditEvent::contact_read).chain([event(9)]) {
            let head = entries.last().map(|e| (e.seq, e.hash.as_str()));
            entries.push(AuditEntry::after(head, e));
        }
        let check = |rows: &[ContactRead]| {
            let mut c =
                RowCheck::new(AuditAction::ContactRead, "contact_reads", rows.iter().map(AuditEvent::contact_read));
            entries.iter().for_each(|e| c.feed(e));
            c.finish()
        };
        assert_eq!(check(&reads), vec![]);
        // One of the two alike rows deleted behind the store's back.
        let problems = check(&reads[1..]);
        assert!(matches!(problems[..], [AuditProblem::EntryWithoutRow { seq: 2, table: "contact_reads", .. }]));
        assert!(problems[0].to_string().starts_with("entry #2 (contact_read by u-r1 on VC-7K3Q-9MX at 2024-05-02"));
        // A row changed: its entry has no row, and the row no entry.
        let changed = [read("call back"), read("call back"), read("nothing to see")];
        let problems = check(&changed);
        assert!(matches!(
            problems[..],
            [
                AuditProblem::EntryWithoutRow { seq: 3, .. },
                AuditProblem::RowWithoutEntry { table: "contact_reads", .. }
            ]
        ));
    }

    #[test]
    fn account_and_token_changes_become_events_without_secrets() {
        let at = ts("2024-05-01T00:00:00Z");
        let u = User::new("u-a", "amina", Role::Analyst, None, "$argon2id$secret-hash".into()).unwrap();
        let created = AuditEvent::user_saved(None, &u, "system:cli", at);
        assert_eq!(created.iter().map(|e| e.action).collect::<Vec<_>>(), vec![AuditAction::UserCreated]);
        assert_eq!((created[0].subject.as_str(), created[0].detail.as_str()), ("amina", "role analyst"));
        assert!(AuditEvent::user_saved(Some(&u), &u, "system:cli", at).is_empty());
        let mut changed = u.clone();
        changed.role = Role::Admin;
        changed.active = false;
        changed.password_hash = "$argon2id$other".into();
        let events = AuditEvent::user_saved(Some(&u), &changed, "u-boss", at);
        assert_eq!(
            events.iter().map(|e| (e.action, e.detail.as_str())).collect::<Vec<_>>(),
            vec![
                (AuditAction::RoleChanged, "analyst -> admin"),
                (AuditAction::PasswordChanged, ""),
                (AuditAction::UserDisabled, "")
            ]
        );
        assert!(events.iter().all(|e| !e.detail.contains("argon2") && e.actor == "u-boss"));
        let enabled = AuditEvent::user_saved(Some(&changed), &u, "u-boss", at);
        assert!(enabled.iter().any(|e| e.action == AuditAction::UserEnabled));
        let token = ApiToken {
            token_hash: TokenHash::of("vca_secret"),
            partner: "ngo".into(),
            user_id: "u-a".into(),
            created_at: at,
            revoked_at: None,
            expires_at: None,
        };
        let created = AuditEvent::token_saved(None, &token, "system:cli", at);
        assert_eq!(created[0].action, AuditAction::TokenCreated);
        assert!(!created[0].detail.contains("vca_secret") && created[0].detail.contains("partner ngo"));
        let revoked = ApiToken { revoked_at: Some(at), ..token.clone() };
        let events = AuditEvent::token_saved(Some(&token), &revoked, "u-boss", at);
        assert_eq!(events.iter().map(|e| e.action).collect::<Vec<_>>(), vec![AuditAction::TokenRevoked]);
        assert!(AuditEvent::token_saved(Some(&revoked), &revoked, "u-boss", at).is_empty());
    }

    #[test]
    fn long_details_are_cut_and_actions_read_back() {
        let e = AuditEvent::new(Timestamp::UNIX_EPOCH, "a", AuditAction::Export, "f", "x".repeat(500));
        assert_eq!(e.detail.chars().count(), MAX_DETAIL_CHARS);
        assert!(e.detail.ends_with("..."));
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(a));
        }
        assert!("delete_everything".parse::<AuditAction>().is_err());
    }
}
